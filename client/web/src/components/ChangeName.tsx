import { useState, type FormEvent } from 'react';
import type { ChatClient, Session } from '../../../src/index.js';
import { errorText } from '../hooks.js';

interface ChangeNameProps {
  client: ChatClient;
  session: Session;
  /** The same user under the new name (a new token): the page carries on with it. */
  onSession: (session: Session) => void;
  /** Sign out to the name form: a new, unrelated identity. */
  onNewIdentity: () => void;
}

/**
 * The user's name in the top bar, and "Change name": a rename keeps the user (the same id, so
 * their messages stay theirs and their private rooms stay joined; each room's history says from
 * when on they go by the new name). Starting over as someone else is there too, and says what it
 * costs before it happens.
 */
export function ChangeName({ client, session, onSession, onNewIdentity }: ChangeNameProps) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(session.user.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmNew, setConfirmNew] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = name.trim();
    if (wanted === '' || wanted === session.user.name) return setOpen(false);
    setBusy(true);
    setError(null);
    try {
      onSession(await client.renameSelf(wanted));
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  };

  return (
    <>
      <span className="me" data-testid="me" title={session.user.name}>
        {session.user.name}
      </span>
      <button type="button" className="link change-name-toggle" onClick={() => setOpen((v) => !v)} aria-expanded={open}>
        Change name
      </button>
      {open && (
        <div className="change-name" role="dialog" aria-label="Change name" data-testid="change-name">
          <form onSubmit={submit} className="rename">
            <label htmlFor="new-name">Your name</label>
            <input id="new-name" autoFocus maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
            <p className="muted small">You stay you: your messages stay yours and your rooms stay joined. Each room shows the new name from now on.</p>
            {error && <p className="error small">{error}</p>}
            <div className="row">
              <button type="submit" disabled={busy || name.trim() === ''}>
                {busy ? 'Renaming…' : 'Rename'}
              </button>
              <button type="button" className="link" onClick={() => setOpen(false)}>
                Cancel
              </button>
            </div>
          </form>
          {confirmNew ? (
            <div className="new-identity" data-testid="new-identity-warning">
              <p>
                <strong>Starting over makes a new identity.</strong> Messages you sent as <span className="name">{session.user.name}</span> stay under that name and you can no
                longer edit or delete them; private rooms will ask for their passwords again.
              </p>
              <div className="row">
                <button type="button" className="danger" onClick={onNewIdentity}>
                  Start as someone new
                </button>
                <button type="button" className="link" onClick={() => setConfirmNew(false)}>
                  Keep me
                </button>
              </div>
            </div>
          ) : (
            <button type="button" className="link start-over" onClick={() => setConfirmNew(true)}>
              Start over as someone new…
            </button>
          )}
        </div>
      )}
    </>
  );
}
