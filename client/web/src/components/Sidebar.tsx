import { useState, type FormEvent } from 'react';
import type { ChatClient, Notice, Room } from '../../../src/index.js';
import { errorText } from '../hooks.js';

interface SidebarProps {
  client: ChatClient;
  /** The user's rooms (null while loading). */
  mine: Room[] | null;
  /** Public rooms, most active first (null while loading). */
  directory: Room[] | null;
  unread: Map<string, number>;
  onRefresh: () => void;
  currentRoomId: string | null;
  onOpen: (roomId: string, password?: string) => void;
  onNotice: (notice: Notice) => void;
}

const members = (count: number) => (count === 1 ? '1 member' : `${count} members`);

/**
 * The user's rooms (public and private, with unread counts), the public rooms they are not in,
 * and forms to create a room or join one by its id.
 */
export function Sidebar({ client, mine, directory, unread, onRefresh, currentRoomId, onOpen, onNotice }: SidebarProps) {
  const joined = new Set((mine ?? []).map((room) => room.id));
  const others = directory?.filter((room) => !joined.has(room.id)) ?? null;
  return (
    <aside className="sidebar">
      <section>
        <h2>Your rooms</h2>
        {mine === null ? (
          <p className="muted">Loading…</p>
        ) : mine.length === 0 ? (
          <p className="muted small">Rooms you join or create show here.</p>
        ) : (
          <ul className="room-list" data-testid="my-rooms">
            {mine.map((room) => (
              <RoomLink key={room.id} room={room} current={room.id === currentRoomId} unread={unread.get(room.id) ?? 0} onOpen={onOpen} />
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Public rooms</h2>
        {others === null ? (
          <p className="muted">Loading…</p>
        ) : others.length === 0 ? (
          <p className="muted small">{directory?.length ? 'You are in every public room.' : 'No public rooms yet.'}</p>
        ) : (
          <ul className="room-list" data-testid="room-list">
            {others.map((room) => (
              <RoomLink key={room.id} room={room} current={room.id === currentRoomId} unread={0} onOpen={onOpen} />
            ))}
          </ul>
        )}
      </section>
      <CreateRoom
        client={client}
        onCreated={(room) => {
          onRefresh();
          onOpen(room.id);
          if (room.private) onNotice({ kind: 'ROOM_CREATED', message: `Private room created. Share its id ${room.id} and the password.`, until: null });
        }}
      />
      <JoinById onJoin={onOpen} />
    </aside>
  );
}

function RoomLink({ room, current, unread, onOpen }: { room: Room; current: boolean; unread: number; onOpen: (roomId: string) => void }) {
  return (
    <li>
      <button
        type="button"
        className={`room-link ${current ? 'current' : ''} ${unread > 0 ? 'has-unread' : ''}`}
        onClick={() => onOpen(room.id)}
        data-room-id={room.id}
        title={room.name}
      >
        <span className="room-name"># {room.name}</span>
        <span className="room-meta">
          {room.private && (
            <span className="lock" data-testid="private-room">
              private
            </span>
          )}
          {unread > 0 ? (
            <span className="unread" data-testid="unread" aria-label={`${unread} unread`}>
              {unread > 99 ? '99+' : unread}
            </span>
          ) : (
            <span className="muted small" data-testid="member-count">
              {members(room.memberCount)}
            </span>
          )}
        </span>
      </button>
    </li>
  );
}

function CreateRoom({ client, onCreated }: { client: ChatClient; onCreated: (room: Room) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const room = await client.createRoom(name.trim(), password === '' ? undefined : password);
      setName('');
      setPassword('');
      onCreated(room);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="side-form" onSubmit={submit} aria-label="Create a room">
      <h2>New room</h2>
      <input aria-label="Room name" placeholder="Room name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
      <input aria-label="Password (optional)" placeholder="Password (optional: private, 8+ characters)" type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
      {error && <p className="error">{error}</p>}
      <button type="submit" disabled={busy || name.trim() === ''}>
        Create
      </button>
    </form>
  );
}

function JoinById({ onJoin }: { onJoin: (roomId: string, password?: string) => void }) {
  const [roomId, setRoomId] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onJoin(roomId.trim(), password === '' ? undefined : password);
    setRoomId('');
    setPassword('');
  };
  return (
    <form className="side-form" onSubmit={submit} aria-label="Join a room by id">
      <h2>Join by id</h2>
      <input aria-label="Room id" placeholder="Room id" value={roomId} onChange={(e) => setRoomId(e.target.value)} />
      <input aria-label="Room password" placeholder="Password (private rooms)" type="password" autoComplete="off" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" disabled={roomId.trim() === ''}>
        Join
      </button>
    </form>
  );
}
