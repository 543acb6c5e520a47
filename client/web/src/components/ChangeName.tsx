import { useState } from 'react';
import type { ChatClient, Session } from '../../../src/index.js';

interface ChangeNameProps {
  client: ChatClient;
  session: Session;
  onSession: (session: Session) => void;
  /** Sign out to the name form: a new, unrelated identity. */
  onNewIdentity: () => void;
}

/**
 * The user's name in the top bar, and "Change name". Sessions are anonymous: the name travels in
 * the session token with a random user id, so a new name from the name form is a new user. The
 * panel says so before it happens: earlier messages stay under the old name and can no longer be
 * edited or deleted, and private rooms ask for their passwords again.
 */
export function ChangeName({ session, onNewIdentity }: ChangeNameProps) {
  const [open, setOpen] = useState(false);
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
          <p>
            <strong>A new name starts a new identity.</strong> Messages you sent as <span className="name">{session.user.name}</span> stay under that name, and you will no longer be able
            to edit or delete them. Private rooms will ask for their passwords again.
          </p>
          <div className="row">
            <button type="button" className="danger" onClick={onNewIdentity}>
              Start as someone new
            </button>
            <button type="button" className="link" onClick={() => setOpen(false)}>
              Keep my name
            </button>
          </div>
        </div>
      )}
    </>
  );
}
