import type { ChildProcess } from 'node:child_process';

/**
 * Request/response over the IPC channel between the balancer's primary and its worker processes,
 * both ways (a worker asks the primary for every decision: dispatcher.ts; the primary asks a
 * worker for its metrics). Messages go out in batches, one per turn of the event loop and
 * destination: an IPC message costs tens of µs of CPU on each side whatever its size, and under
 * load there are several to send in the same turn.
 */
interface Ask {
  type: 'roomlog:ask';
  /** -1: told, nobody waits for an answer. */
  id: number;
  topic: string;
  payload: unknown;
}
interface Answer {
  type: 'roomlog:answer';
  id: number;
  result?: unknown;
  error?: string;
}
interface Batch {
  type: 'roomlog:batch';
  messages: Array<Ask | Answer>;
}
/** Where a message goes: a worker (from the primary), or `null` for the primary (from a worker). */
export type Peer = ChildProcess | null;
type Handler = (payload: unknown, from: Peer) => unknown;

const handlers = new Map<string, Handler>();
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
const outboxes = new Map<Peer, Array<Ask | Answer>>();
let flushScheduled = false;
let nextId = 0;
let listeningToPrimary = false;

function post(to: Peer, message: Ask | Answer): void {
  let outbox = outboxes.get(to);
  if (!outbox) outboxes.set(to, (outbox = []));
  outbox.push(message);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushScheduled = false;
  for (const [to, messages] of outboxes) {
    outboxes.delete(to);
    const batch: Batch = { type: 'roomlog:batch', messages };
    try {
      if (to === null) {
        if (process.connected) process.send!(batch);
      } else if (to.connected) to.send(batch);
    } catch {
      // The other end is gone; whoever waits times out, and the exit handlers clean up.
    }
  }
}

function receive(message: unknown, from: Peer): void {
  if (typeof message !== 'object' || message === null || (message as Batch).type !== 'roomlog:batch') return;
  for (const m of (message as Batch).messages) {
    if (m.type === 'roomlog:answer') settle(m);
    else if (m.type === 'roomlog:ask') handle(m, from);
  }
}

function settle(message: Answer): void {
  const waiting = pending.get(message.id);
  if (!waiting) return;
  pending.delete(message.id);
  clearTimeout(waiting.timer);
  if (message.error !== undefined) waiting.reject(new Error(message.error));
  else waiting.resolve(message.result);
}

function handle(message: Ask, from: Peer): void {
  const handler = handlers.get(message.topic);
  const result = Promise.resolve().then(() => {
    if (!handler) throw new Error(`no handler for ${message.topic}`);
    return handler(message.payload, from);
  });
  if (message.id < 0) {
    result.catch(() => {});
    return;
  }
  result.then(
    (value) => post(from, { type: 'roomlog:answer', id: message.id, result: value }),
    (error: unknown) => post(from, { type: 'roomlog:answer', id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
}

/** In the primary: start hearing from this worker. */
export function attachWorker(worker: ChildProcess): void {
  worker.on('message', (message) => receive(message, worker));
}

/** In a worker: start hearing from the primary. */
export function listenToPrimary(): void {
  if (listeningToPrimary) return;
  listeningToPrimary = true;
  process.on('message', (message) => receive(message, null));
}

/** Answers `topic`: in the primary, asked by workers (`from` is the worker); in a worker, asked by the primary. */
export function answer(topic: string, handler: Handler): void {
  handlers.set(topic, handler);
}

/** Asks the other side (`to`: a worker from the primary, null for the primary from a worker). */
export function ask<T>(to: Peer, topic: string, payload: unknown, timeoutMs = 2_000): Promise<T> {
  if (to === null) listenToPrimary();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`${topic}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    post(to, { type: 'roomlog:ask', id, topic, payload });
  });
}

/**
 * Tells the other side, expecting no answer. `urgent`: sent now, with whatever waits for the same
 * destination, not at the end of this turn (e.g. before the client hears of what it reports).
 */
export function tell(to: Peer, topic: string, payload: unknown, options: { urgent?: boolean } = {}): void {
  if (to === null) listenToPrimary();
  post(to, { type: 'roomlog:ask', id: -1, topic, payload });
  if (options.urgent) flush();
}
