import type { Presence, User } from '../../../src/index.js';

export function PresenceList({ presence, me }: { presence: Presence | null; me: User }) {
  return (
    <aside className="people" aria-label="Who is here">
      <h2>Here now {presence && <span className="muted">({presence.count})</span>}</h2>
      <ul data-testid="presence-list">
        {presence?.online.map((user) => (
          <li key={user.id} data-user-id={user.id} title={user.name}>
            <span className="dot" aria-hidden="true" />
            <span className="name">{user.name}</span>
            {user.id === me.id && <span className="muted you">(you)</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}

/** "ada is typing…", without the viewer themself. */
export function TypingLine({ presence, me }: { presence: Presence | null; me: User }) {
  const others = presence?.typing.filter((user) => user.id !== me.id) ?? [];
  const names = others.map((user) => user.name);
  const text = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length <= 3 ? `${names.join(', ')} are typing…` : 'Several people are typing…';
  return (
    <div className="typing" data-testid="typing" aria-live="polite">
      {text}
    </div>
  );
}
