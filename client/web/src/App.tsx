import { useCallback, useEffect, useState } from 'react';
import { createChatClient, type ChatClient, type Session } from '../../src/index.js';
import { NameForm } from './components/NameForm.js';
import { Sidebar } from './components/Sidebar.js';
import { RoomView } from './components/RoomView.js';
import { ReconnectingBanner, StatusBadge } from './components/StatusBadge.js';
import { Notices } from './components/Notices.js';
import { ChangeName } from './components/ChangeName.js';
import { useNotices } from './hooks.js';
import { useUnread } from './readMarksHook.js';
import { useRoomLists } from './roomLists.js';
import { loadSession, roomFromHash, roomHash, saveSession } from './session.js';

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const signIn = (next: Session) => {
    saveSession(next);
    setSession(next);
  };
  const signOut = useCallback(() => {
    saveSession(null);
    setSession(null);
  }, []);
  if (!session) return <NameForm onSession={signIn} />;
  return <Chat key={session.token} session={session} onSignOut={signOut} onSession={signIn} />;
}

function useHashRoom(): [string | null, (roomId: string | null) => void] {
  const [roomId, setRoomId] = useState(() => roomFromHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoomId(roomFromHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const open = useCallback((id: string | null) => {
    location.hash = id ? roomHash(id) : '';
  }, []);
  return [roomId, open];
}

interface ChatProps {
  session: Session;
  onSignOut: () => void;
  /** A new session for the same user (a rename keeps the user id). */
  onSession: (session: Session) => void;
}

function Chat({ session, onSignOut, onSession }: ChatProps) {
  // One client (one WebSocket to the node that served this page) per session, made and closed by
  // the same effect (so React's StrictMode double mount cannot leave a closed one behind).
  const [client, setClient] = useState<ChatClient | null>(null);
  useEffect(() => {
    const made = createChatClient({ url: location.origin, token: session.token });
    setClient(made);
    return () => void made.close();
  }, [session.token]);
  if (!client) return null;
  return <ChatScreen client={client} session={session} onSignOut={onSignOut} onSession={onSession} />;
}

function ChatScreen({ client, session, onSignOut, onSession }: ChatProps & { client: ChatClient }) {
  const [roomId, openRoom] = useHashRoom();
  // A password typed in "join by id" travels to the room view once, not through the URL.
  const [passwords, setPasswords] = useState<Record<string, string>>({});
  const { notices, show, dismiss } = useNotices(client);
  const lists = useRoomLists(client);
  const { unread } = useUnread(session.user.id, lists.mine, roomId);
  // A token the server no longer accepts (expired, or the secret changed): start over.
  useEffect(() => client.onStatus((status) => status === 'closed' && client.error?.code === 'UNAUTHENTICATED' && onSignOut()), [client, onSignOut]);

  return (
    <div className={`app ${roomId ? 'has-room' : 'no-room'}`}>
      <header className="topbar">
        <a className="brand" href="#" onClick={() => openRoom(null)}>
          roomlog
        </a>
        <StatusBadge client={client} />
        <ChangeName client={client} session={session} onSession={onSession} onNewIdentity={onSignOut} />
      </header>
      <div className="alerts">
        <ReconnectingBanner client={client} />
        <Notices notices={notices} onDismiss={dismiss} />
      </div>
      <Sidebar
        client={client}
        mine={lists.mine}
        directory={lists.directory}
        unread={unread}
        onRefresh={lists.refresh}
        currentRoomId={roomId}
        onOpen={(id, password) => {
          if (password) setPasswords((p) => ({ ...p, [id]: password }));
          openRoom(id);
        }}
        onNotice={show}
      />
      <main className="main">
        {roomId ? (
          <RoomView
            key={roomId}
            client={client}
            roomId={roomId}
            me={session.user}
            initialPassword={passwords[roomId]}
            onBack={() => openRoom(null)}
            onUnauthenticated={onSignOut}
            onMembershipChanged={lists.refresh}
            onRoomEvent={lists.applyEvent}
            onLeft={() => {
              lists.refresh();
              openRoom(null);
            }}
          />
        ) : (
          <div className="empty-main">
            <p>Pick a room on the left, or create one.</p>
          </div>
        )}
      </main>
    </div>
  );
}
