import { useState, type FormEvent } from 'react';
import type { Message } from '../../../src/index.js';
import { errorText } from '../hooks.js';
import { linkify } from '../messageText.js';
import type { PendingSend } from '../timeline.js';

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

interface MessageItemProps {
  message: Message;
  mine: boolean;
  /** Continues the previous message's group (same author, moments later): no name of its own. */
  continues?: boolean;
  onEdit: (messageId: string, body: string) => Promise<void>;
  onDelete: (messageId: string) => Promise<void>;
}

/** A body as text with its http(s) links clickable (messageText.ts); nothing else becomes markup. */
export function MessageBody({ body }: { body: string }) {
  return (
    <>
      {linkify(body).map((part, i) =>
        part.kind === 'link' ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

export function MessageItem({ message, mine, continues = false, onEdit, onDelete }: MessageItemProps) {
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-delete'>('view');
  const [draft, setDraft] = useState(message.body);
  const [error, setError] = useState<string | null>(null);

  const act = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
      setMode('view');
    } catch (e) {
      setError(errorText(e));
    }
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim() === '' || draft === message.body) return setMode('view');
    void act(() => onEdit(message.id, draft.trim()));
  };

  return (
    <li
      className={`message ${mine ? 'mine' : ''} ${message.deleted ? 'deleted' : ''} ${continues ? 'continues' : ''}`}
      data-testid="message"
      data-seq={message.seq}
      data-message-id={message.id}
      data-continues={continues ? 'true' : undefined}
    >
      <div className="meta">
        {!continues && (
          <span className="author" title={message.author.name}>
            {message.author.name}
          </span>
        )}
        <time dateTime={message.createdAt}>{time(message.createdAt)}</time>
        {message.editedAt && !message.deleted && <span className="muted small">(edited)</span>}
      </div>
      {mode === 'edit' ? (
        <form className="edit" onSubmit={save}>
          <textarea aria-label="Edit message" value={draft} autoFocus onChange={(e) => setDraft(e.target.value)} />
          <button type="submit">Save</button>
          <button type="button" className="link" onClick={() => setMode('view')}>
            Cancel
          </button>
        </form>
      ) : (
        <p className="body" data-testid="message-body">
          {message.deleted ? <em className="muted">message deleted</em> : <MessageBody body={message.body} />}
        </p>
      )}
      {mine && !message.deleted && mode === 'view' && (
        <div className="actions">
          <button type="button" className="link" onClick={() => (setDraft(message.body), setMode('edit'))}>
            Edit
          </button>
          <button type="button" className="link" onClick={() => setMode('confirm-delete')}>
            Delete
          </button>
        </div>
      )}
      {mode === 'confirm-delete' && (
        <div className="actions confirm">
          <span>Delete this message?</span>
          <button type="button" className="danger" onClick={() => void act(() => onDelete(message.id))}>
            Delete
          </button>
          <button type="button" className="link" onClick={() => setMode('view')}>
            Keep
          </button>
        </div>
      )}
      {error && <p className="error small">{error}</p>}
    </li>
  );
}

export function PendingItem({ pending, onRetry, onDiscard }: { pending: PendingSend; onRetry: () => void; onDiscard: () => void }) {
  return (
    <li className={`message mine pending ${pending.error ? 'failed' : ''}`} data-testid="pending-message">
      <div className="meta">
        <span className="author" title={pending.author.name}>
          {pending.author.name}
        </span>
        <span className="muted small">{pending.error ? '' : 'sending…'}</span>
      </div>
      <p className="body">{pending.body}</p>
      {pending.error && (
        <div className="actions">
          <span className="error small">{pending.error}</span>
          <button type="button" className="link" onClick={onRetry}>
            Retry
          </button>
          <button type="button" className="link" onClick={onDiscard}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}
