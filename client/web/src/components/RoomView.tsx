import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ChatClientError, type ChatClient, type Room, type RoomEvent, type User } from '../../../src/index.js';
import { errorText, usePresence, useTimeline, useTypingSignal } from '../hooks.js';
import { Composer } from './Composer.js';
import { MessageList } from './MessageList.js';
import { PresenceList, TypingLine } from './Presence.js';

interface RoomViewProps {
  client: ChatClient;
  roomId: string;
  me: User;
  initialPassword: string | undefined;
  onBack: () => void;
  onUnauthenticated: () => void;
  /** The user joined (the lists of rooms should show it). */
  onMembershipChanged: () => void;
  /** The user left the room. */
  onLeft: () => void;
  /** Each event of the open room as it arrives (the sidebar's counts follow it). */
  onRoomEvent: (event: RoomEvent) => void;
}

type JoinState = { kind: 'joining' } | { kind: 'joined'; room: Room } | { kind: 'password'; error: string | null } | { kind: 'failed'; error: string };

/** Joins the room (a no-op for members; a private room asks for its password), then shows it. */
export function RoomView({ client, roomId, me, initialPassword, onBack, onUnauthenticated, onMembershipChanged, onLeft, onRoomEvent }: RoomViewProps) {
  const [join, setJoin] = useState<JoinState>({ kind: 'joining' });

  const attempt = (password: string | undefined) => {
    setJoin({ kind: 'joining' });
    client.joinRoom(roomId, password).then(
      (room) => {
        setJoin({ kind: 'joined', room });
        onMembershipChanged();
      },
      (e: unknown) => {
        if (e instanceof ChatClientError && e.code === 'UNAUTHENTICATED') return onUnauthenticated();
        if (e instanceof ChatClientError && e.code === 'FORBIDDEN') return setJoin({ kind: 'password', error: password === undefined ? null : e.message });
        if (e instanceof ChatClientError && e.code === 'NOT_FOUND') return setJoin({ kind: 'failed', error: 'There is no room with this id.' });
        setJoin({ kind: 'failed', error: errorText(e) });
      },
    );
  };
  useEffect(() => attempt(initialPassword), [client, roomId]); // eslint-disable-line react-hooks/exhaustive-deps

  if (join.kind === 'joined') return <JoinedRoom client={client} room={join.room} me={me} onBack={onBack} onLeft={onLeft} onRoomEvent={onRoomEvent} />;
  return (
    <section className="room">
      <RoomHeader title="Room" onBack={onBack} />
      <div className="room-gate">
        {join.kind === 'joining' && <p className="muted">Joining…</p>}
        {join.kind === 'failed' && <p className="error">{join.error}</p>}
        {join.kind === 'password' && <PasswordForm error={join.error} onSubmit={attempt} />}
      </div>
    </section>
  );
}

function PasswordForm({ error, onSubmit }: { error: string | null; onSubmit: (password: string) => void }) {
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(password);
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Room password">
      <h2>This room is private</h2>
      <label htmlFor="room-password">Password</label>
      <input id="room-password" type="password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
      {error && (
        <p className="error" data-testid="join-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={password === ''}>
        Join
      </button>
    </form>
  );
}

function RoomHeader({ title, onBack, children }: { title: string; onBack: () => void; children?: ReactNode }) {
  return (
    <header className="room-header">
      <button type="button" className="back link" onClick={onBack} aria-label="Back to rooms">
        ‹ Rooms
      </button>
      <h1 className="room-title">{title}</h1>
      {children}
    </header>
  );
}

interface JoinedRoomProps {
  client: ChatClient;
  room: Room;
  me: User;
  onBack: () => void;
  onLeft: () => void;
  onRoomEvent: (event: RoomEvent) => void;
}

function JoinedRoom({ client, room, me, onBack, onLeft, onRoomEvent }: JoinedRoomProps) {
  const timeline = useTimeline(client, room.id, me, onRoomEvent);
  const presence = usePresence(client, room.id);
  const typing = useTypingSignal(client, room.id);
  const [showPeople, setShowPeople] = useState(false);
  const [leaving, setLeaving] = useState<'idle' | 'confirm' | 'busy'>('idle');
  const [leaveError, setLeaveError] = useState<string | null>(null);
  const leave = () => {
    setLeaving('busy');
    client.leaveRoom(room.id).then(onLeft, (e: unknown) => {
      setLeaving('idle');
      setLeaveError(errorText(e));
    });
  };

  return (
    <section className={`room ${showPeople ? 'show-people' : ''}`} data-room-id={room.id}>
      <RoomHeader title={`# ${room.name}`} onBack={onBack}>
        {room.private && <span className="badge">private</span>}
        <button type="button" className="presence-count link" data-testid="presence-count" onClick={() => setShowPeople((v) => !v)} aria-expanded={showPeople}>
          <span className="dot" aria-hidden="true" /> {presence ? presence.count : '…'} online
        </button>
        {leaving === 'idle' ? (
          <button type="button" className="link leave" onClick={() => (room.private ? setLeaving('confirm') : leave())}>
            Leave
          </button>
        ) : (
          leaving === 'busy' && <span className="muted small">Leaving…</span>
        )}
      </RoomHeader>
      {leaving === 'confirm' && (
        <div className="confirm-leave banner" role="alert">
          <span>Leave this private room? You will need its password to come back.</span>
          <button type="button" className="danger" onClick={leave}>
            Leave
          </button>
          <button type="button" className="link" onClick={() => setLeaving('idle')}>
            Stay
          </button>
        </div>
      )}
      {leaveError && <p className="error banner">{leaveError}</p>}
      <div className="room-body">
        <div className="conversation">
          {room.private && (
            <p className="room-id muted small">
              Room id <code>{room.id}</code>: share it with the password.
            </p>
          )}
          {timeline.error && <p className="error banner">{timeline.error}</p>}
          <MessageList timeline={timeline} me={me} />
          <TypingLine presence={presence} me={me} />
          <Composer
            onSend={(body) => {
              timeline.send(body);
              typing.sent();
            }}
            onTyping={typing.typed}
          />
        </div>
        <PresenceList presence={presence} me={me} />
      </div>
    </section>
  );
}
