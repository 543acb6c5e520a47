import { Worker } from 'node:worker_threads';

/**
 * scrypt on threads of our own, at the lowest CPU priority.
 *
 * Node's async `crypto.scrypt` runs on the libuv pool at the process's priority. On a small
 * machine (two cores) a flood of wrong-password guesses then keeps a core busy with scrypt, and
 * the event loop, which delivers every message of every room, competes with it and with whatever
 * else runs there: a member's send went from ~10 ms to ~400 ms at p99 while guesses were checked.
 * Linux keeps a nice value per thread, so each checking thread lowers its own priority to 19 as it
 * starts: when the event loop wants the CPU it gets it, and password checks take what is left.
 * (Where a thread's priority cannot be lowered, checks still run off the event loop.)
 *
 * The threads start on the first check (a node without private rooms never starts one) and do not
 * keep the process alive while idle.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface ScryptThreads {
  derive(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer>;
  close(): Promise<void>;
}

// Plain CommonJS evaluated as the worker's script: a separate module file would need its own
// loader under tsx and vitest, and one string works the same from source and from the build.
const THREAD_SCRIPT = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
try {
  // '/proc/thread-self' -> '<pid>/task/<tid>'; setpriority(PRIO_PROCESS, tid) sets this thread only.
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {}
parentPort.on('message', ({ id, password, salt, keyLength, options }) => {
  try {
    const key = scryptSync(password, Buffer.from(salt), keyLength, options);
    parentPort.postMessage({ id, key });
  } catch (error) {
    parentPort.postMessage({ id, error: error && error.message ? error.message : String(error) });
  }
});
`;

const MAX_MEMORY = 64 * 1024 * 1024;

interface Pending {
  resolve: (key: Buffer) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Up to `size` threads; a check goes to an idle one, else a new one, else the least busy. */
export function createScryptThreads(size: number): ScryptThreads {
  const threads: Thread[] = [];
  let nextId = 0;
  let closed = false;

  const start = (): Thread => {
    const worker = new Worker(THREAD_SCRIPT, { eval: true });
    const thread: Thread = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (message: { id: number; key?: Uint8Array; error?: string }) => {
      const pending = thread.pending.get(message.id);
      if (!pending) return;
      thread.pending.delete(message.id);
      if (thread.pending.size === 0) worker.unref();
      if (message.key) pending.resolve(Buffer.from(message.key));
      else pending.reject(new Error(message.error ?? 'scrypt failed'));
    });
    const fail = (error: Error) => {
      const index = threads.indexOf(thread);
      if (index >= 0) threads.splice(index, 1);
      for (const pending of thread.pending.values()) pending.reject(error);
      thread.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`password thread exited (${code})`)));
    threads.push(thread);
    return thread;
  };

  const pick = (): Thread => {
    const idle = threads.find((thread) => thread.pending.size === 0);
    if (idle) return idle;
    if (threads.length < size) return start();
    return threads.reduce((least, thread) => (thread.pending.size < least.pending.size ? thread : least));
  };

  return {
    derive(password, salt, keyLength, params) {
      if (closed) return Promise.reject(new Error('password threads are closed'));
      const thread = pick();
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        // Held while a check is in hand, so a CLI or a test waiting on it is not cut short.
        thread.worker.ref();
        thread.worker.postMessage({ id, password, salt, keyLength, options: { ...params, maxmem: MAX_MEMORY } });
      });
    },
    async close() {
      closed = true;
      await Promise.all(threads.splice(0).map((thread) => thread.worker.terminate()));
    },
  };
}
