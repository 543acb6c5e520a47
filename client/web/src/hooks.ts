import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { ChatClientError, newClientMessageId, type ChatClient, type ConnectionStatus, type Notice, type Presence, type RoomEvent, type User } from '../../src/index.js';
import { emptyTimeline, timelineReducer } from './timeline.js';

export const PAGE_SIZE = 50;

export function useConnectionStatus(client: ChatClient): ConnectionStatus {
  const [status, setStatus] = useState(client.status);
  useEffect(() => {
    setStatus(client.status);
    return client.onStatus(setStatus);
  }, [client]);
  return status;
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A room's messages: the newest page of history, then every event after it from the room's
 * log (the client library resumes by seq after any disconnect, so nothing is missed or doubled),
 * older pages on demand, and sends with their pending state.
 */
export function useTimeline(client: ChatClient, roomId: string, me: User, onEvent?: (event: RoomEvent) => void) {
  const eventListener = useRef(onEvent);
  eventListener.current = onEvent;
  const [state, dispatch] = useReducer(timelineReducer, emptyTimeline);
  const [error, setError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const oldestSeq = state.messages[0]?.seq;

  useEffect(() => {
    let cancelled = false;
    let stop = () => {};
    client.messages(roomId, { limit: PAGE_SIZE }).then(
      (history) => {
        if (cancelled) return;
        dispatch({ type: 'history', messages: history, older: false, pageSize: PAGE_SIZE });
        // Resume right after the newest message history has: events the history projection has
        // not caught up with yet come from the log, so there is no gap between the two.
        const afterSeq = history.at(-1)?.seq ?? 0;
        const feed = client.onRoomEvents(
          roomId,
          (event) => {
            dispatch({ type: 'event', event });
            eventListener.current?.(event);
          },
          { afterSeq, onError: (e) => setError(e.message) },
        );
        stop = () => feed.unsubscribe();
      },
      (e: unknown) => !cancelled && setError(errorText(e)),
    );
    return () => {
      cancelled = true;
      stop();
    };
  }, [client, roomId]);

  const loadOlder = useCallback(async () => {
    if (loadingOlder || !state.hasOlder || oldestSeq === undefined) return;
    setLoadingOlder(true);
    try {
      const older = await client.messages(roomId, { before: oldestSeq, limit: PAGE_SIZE });
      dispatch({ type: 'history', messages: older, older: true, pageSize: PAGE_SIZE });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoadingOlder(false);
    }
  }, [client, roomId, oldestSeq, state.hasOlder, loadingOlder]);

  // Sends go out one after another, in the order they were written: a send the rate limit holds
  // back (the client library retries it by itself after the server's retryAfterMs) must not be
  // overtaken by the next one.
  const sendQueue = useRef<Promise<unknown>>(Promise.resolve());
  const send = useCallback(
    (body: string, clientMessageId: string = newClientMessageId()) => {
      dispatch({ type: 'sending', pending: { clientMessageId, body, author: me, error: null } });
      sendQueue.current = sendQueue.current.then(() =>
        client.send(roomId, body, { clientMessageId }).then(
          (message) => dispatch({ type: 'sent', clientMessageId, message }),
          (e: unknown) => {
            const text = e instanceof ChatClientError && e.code === 'RATE_LIMITED' ? `Not sent: too fast, retry in ${Math.ceil((e.retryAfterMs ?? 1000) / 1000)} s` : `Not sent: ${errorText(e)}`;
            dispatch({ type: 'sendFailed', clientMessageId, error: text });
          },
        ),
      );
    },
    [client, roomId, me],
  );
  const discard = useCallback((clientMessageId: string) => dispatch({ type: 'discard', clientMessageId }), []);
  const edit = useCallback(async (messageId: string, body: string) => dispatch({ type: 'changed', message: await client.editMessage(messageId, body) }), [client]);
  const remove = useCallback(async (messageId: string) => dispatch({ type: 'changed', message: await client.deleteMessage(messageId) }), [client]);

  return { ...state, error, loadingOlder, loadOlder, send, discard, edit, remove };
}

export function usePresence(client: ChatClient, roomId: string): Presence | null {
  const [presence, setPresence] = useState<Presence | null>(null);
  useEffect(() => {
    setPresence(null);
    return client.onPresence(roomId, setPresence, () => {});
  }, [client, roomId]);
  return presence;
}

export interface ShownNotice extends Notice {
  id: number;
}

/** Notices from the server (and the page's own), each shown for a while. */
export function useNotices(client: ChatClient) {
  const [notices, setNotices] = useState<ShownNotice[]>([]);
  const next = useRef(0);
  const show = useCallback((notice: Notice) => {
    const id = ++next.current;
    setNotices((list) => [...list.slice(-3), { ...notice, id }]);
    const until = notice.until ? Date.parse(notice.until) - Date.now() : 0;
    setTimeout(() => setNotices((list) => list.filter((n) => n.id !== id)), Math.min(Math.max(until, 6_000), 30_000));
  }, []);
  useEffect(() => client.onNotice(show, () => {}), [client, show]);
  const dismiss = useCallback((id: number) => setNotices((list) => list.filter((n) => n.id !== id)), []);
  return { notices, show, dismiss };
}

/**
 * Tells the room that this user types: at most once every 2.5 s while keys come, and "stopped"
 * when the field empties (the server clears typing by itself a few seconds later, and on send).
 */
export function useTypingSignal(client: ChatClient, roomId: string) {
  const lastSent = useRef(0);
  const typed = useCallback(
    (text: string) => {
      const now = Date.now();
      if (text.trim() === '') {
        if (lastSent.current > 0) client.setTyping(roomId, false).catch(() => {});
        lastSent.current = 0;
      } else if (now - lastSent.current > 2_500) {
        lastSent.current = now;
        client.setTyping(roomId, true).catch(() => {});
      }
    },
    [client, roomId],
  );
  // A send clears typing on the server already.
  const sent = useCallback(() => void (lastSent.current = 0), []);
  return { typed, sent };
}
