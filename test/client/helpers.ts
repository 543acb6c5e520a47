/** Small helpers shared by the client library's end-to-end tests. */
import WebSocket from 'ws';
import { createChatClient, createSession, type ChatClient, type ChatClientOptions, type RoomEvent } from '../../client/src/index.js';

const clients = new Set<ChatClient>();

/** A client for a new user, on the given node(s); closed by `closeAllClients`. */
export async function newUser(url: string | string[], name: string, options: Partial<ChatClientOptions> = {}): Promise<{ client: ChatClient; token: string; userId: string }> {
  const session = await createSession(url, name);
  const client = createChatClient({ url, token: session.token, webSocketImpl: WebSocket, ...options });
  clients.add(client);
  return { client, token: session.token, userId: session.user.id };
}

export function track(client: ChatClient): ChatClient {
  clients.add(client);
  return client;
}

export async function closeAllClients(): Promise<void> {
  await Promise.all([...clients].map((client) => client.close()));
  clients.clear();
}

/** Reads from `iterator` until `done(events)` holds, failing after `timeoutMs` with what it has. */
export async function collectUntil(iterator: AsyncIterator<RoomEvent>, done: (events: RoomEvent[]) => boolean, timeoutMs = 20_000, into: RoomEvent[] = []): Promise<RoomEvent[]> {
  const deadline = Date.now() + timeoutMs;
  while (!done(into)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out with ${into.length} events; last seq ${into.at(-1)?.seq}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left))),
    ]).finally(() => clearTimeout(timer));
    if (next === 'timeout') continue;
    if (next.done) throw new Error(`the iterator ended after ${into.length} events`);
    into.push(next.value);
  }
  return into;
}

export const bodies = (events: RoomEvent[]): string[] => events.flatMap((event) => (event.__typename === 'MessagePosted' ? [event.message.body] : []));

/** Seqs strictly 1 apart from the first: no gap, no duplicate, no reordering. */
export function assertContiguous(events: RoomEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.seq !== events[i - 1]!.seq + 1) throw new Error(`seq ${events[i - 1]!.seq} followed by ${events[i]!.seq} at index ${i}`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
