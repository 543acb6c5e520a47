import { useState, type FormEvent } from 'react';
import { createSession, type Session } from '../../../src/index.js';
import { errorText } from '../hooks.js';

/** Sessions are anonymous: a name is all it takes. */
export function NameForm({ onSession }: { onSession: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSession(await createSession(location.origin, name.trim()));
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <div className="welcome">
      <form className="card" onSubmit={submit}>
        <h1>roomlog</h1>
        <p className="muted">Chat rooms where no message is ever lost, doubled or out of order.</p>
        <label htmlFor="name">Your name</label>
        <input id="name" name="name" autoFocus autoComplete="nickname" maxLength={64} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ada" />
        {error && <p className="error">{error}</p>}
        <button type="submit" disabled={busy || name.trim() === ''}>
          {busy ? 'Starting…' : 'Start chatting'}
        </button>
      </form>
    </div>
  );
}
