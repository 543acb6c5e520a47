import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { ChatClient, Notice, Room } from '../../../src/index.js';
import { errorText } from '../hooks.js';

interface SidebarProps {
  client: ChatClient;
  currentRoomId: string | null;
  onOpen: (roomId: string, password?: string) => void;
  onNotice: (notice: Notice) => void;
}

/** Public rooms (most active first), and forms to create a room or join one by its id. */
export function Sidebar({ client, currentRoomId, onOpen, onNotice }: SidebarProps) {
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const loaded = useRef(false);
  const refresh = useCallback(() => {
    // While reconnecting, the last list stays; queries would only queue up behind the reconnect.
    if (client.status === 'reconnecting' && loaded.current) return;
    client.rooms().then((list) => {
      loaded.current = true;
      setRooms(list);
    }, () => {});
  }, [client]);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 10_000);
    return () => clearInterval(timer);
  }, [refresh, currentRoomId]);

  return (
    <aside className="sidebar">
      <section>
        <h2>Rooms</h2>
        {rooms === null ? (
          <p className="muted">Loading…</p>
        ) : rooms.length === 0 ? (
          <p className="muted">No public rooms yet.</p>
        ) : (
          <ul className="room-list" data-testid="room-list">
            {rooms.map((room) => (
              <li key={room.id}>
                <button type="button" className={`room-link ${room.id === currentRoomId ? 'current' : ''}`} onClick={() => onOpen(room.id)} data-room-id={room.id}>
                  <span className="room-name"># {room.name}</span>
                  <span className="muted small">{room.memberCount === 1 ? '1 member' : `${room.memberCount} members`}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <CreateRoom client={client} onCreated={(room) => { refresh(); onOpen(room.id); if (room.private) onNotice({ kind: 'ROOM_CREATED', message: `Private room created. Share its id ${room.id} and the password.`, until: null }); }} />
      <JoinById onJoin={onOpen} />
    </aside>
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
