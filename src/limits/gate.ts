/**
 * At most `concurrency` tasks run at once; up to `maxQueued` more wait their turn in order, and
 * past that a task is refused at once (GateFullError) instead of piling up: a flood then costs
 * one bounded queue, not memory and latency without end.
 */
export class GateFullError extends Error {
  constructor(readonly queued: number) {
    super(`${queued} tasks are already waiting`);
    this.name = 'GateFullError';
  }
}

export interface Gate {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Running and waiting tasks right now (for tests and metrics). */
  readonly running: number;
  readonly queued: number;
}

export function createGate(options: { concurrency: number; maxQueued: number }): Gate {
  const { concurrency, maxQueued } = options;
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    async run(task) {
      if (running >= concurrency) {
        if (waiting.length >= maxQueued) throw new GateFullError(waiting.length);
        // The slot is handed over by `release` without being freed in between, so nobody arriving
        // meanwhile can overtake the queue.
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        running++;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
  };
}
