import cluster, { type Worker } from 'node:cluster';

/**
 * Request/response over the cluster IPC channel, both ways: a worker asks the primary (admission,
 * merged /healthz and /metrics), the primary asks each worker (its share of /healthz). Messages
 * carry a `roomlog:` type so they never mix with prom-client's own cluster messages.
 */
interface Ask {
  type: 'roomlog:ask';
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
type Handler = (payload: unknown, from: Worker | null) => unknown;

const handlers = new Map<string, Handler>();
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
let nextId = 0;
let listening = false;

function isAsk(message: unknown): message is Ask {
  return typeof message === 'object' && message !== null && (message as Ask).type === 'roomlog:ask';
}
function isAnswer(message: unknown): message is Answer {
  return typeof message === 'object' && message !== null && (message as Answer).type === 'roomlog:answer';
}

function onMessage(message: unknown, reply: (answer: Answer) => void, from: Worker | null): void {
  if (isAnswer(message)) {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.error !== undefined) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
    return;
  }
  if (!isAsk(message)) return;
  const handler = handlers.get(message.topic);
  if (message.id < 0) {
    // Told, not asked: nobody waits for an answer.
    void Promise.resolve()
      .then(() => handler?.(message.payload, from))
      .catch(() => {});
    return;
  }
  Promise.resolve()
    .then(() => {
      if (!handler) throw new Error(`no handler for ${message.topic}`);
      return handler(message.payload, from);
    })
    .then(
      (result) => reply({ type: 'roomlog:answer', id: message.id, result }),
      (error: unknown) => reply({ type: 'roomlog:answer', id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
}

function listen(): void {
  if (listening) return;
  listening = true;
  if (cluster.isPrimary) {
    cluster.on('message', (worker, message) => onMessage(message, (answer) => worker.isConnected() && worker.send(answer), worker));
  } else {
    process.on('message', (message) => onMessage(message, (answer) => process.connected && process.send!(answer), null));
  }
}

/** Answers `topic` (in the primary: asked by workers, `from` is the asking worker; in a worker: asked by the primary). */
export function answer(topic: string, handler: Handler): void {
  listen();
  handlers.set(topic, handler);
}

function ask<T>(send: (message: Ask) => void, topic: string, payload: unknown, timeoutMs: number): Promise<T> {
  listen();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`${topic}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    try {
      send({ type: 'roomlog:ask', id, topic, payload });
    } catch (error) {
      pending.delete(id);
      clearTimeout(timer);
      reject(error as Error);
    }
  });
}

/** From a worker: ask the primary. */
export function askPrimary<T>(topic: string, payload: unknown, timeoutMs = 2_000): Promise<T> {
  return ask<T>((message) => process.send!(message), topic, payload, timeoutMs);
}

/** From a worker: tell the primary, expecting no answer. */
export function tellPrimary(topic: string, payload: unknown): void {
  if (process.connected) process.send!({ type: 'roomlog:ask', id: -1, topic, payload } satisfies Ask);
}

/** From the primary: ask one worker. */
export function askWorker<T>(worker: Worker, topic: string, payload: unknown, timeoutMs = 2_000): Promise<T> {
  return ask<T>((message) => worker.send(message), topic, payload, timeoutMs);
}
