/** The orchestrator's handle on the load-client child (loadClient.ts). */
import type { ChildProcess } from 'node:child_process';
import type { Envelope, LoadReply, LoadRequest } from './load/protocol.js';
import { spawnNode, stopChild } from './processes.js';

export interface LoadClient {
  pid: number;
  call<T>(req: LoadRequest, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

export function startLoadClient(): LoadClient {
  const child: ChildProcess = spawnNode('test/bench/loadClient.ts', { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextReq = 1;
  child.on('message', (reply: LoadReply) => {
    const w = waiting.get(reply.reqId);
    waiting.delete(reply.reqId);
    if (reply.ok) w?.resolve(reply.result);
    else w?.reject(new Error(`load client: ${reply.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`load client exited (${code ?? signal})`));
    waiting.clear();
  });
  return {
    pid: child.pid!,
    call<T>(req: LoadRequest, timeoutMs: number): Promise<T> {
      const reqId = nextReq++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(reqId);
          reject(new Error(`load client: ${req.cmd} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(reqId, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ ...req, reqId } satisfies Envelope<LoadRequest>);
      });
    },
    stop: () => stopChild(child, 3_000),
  };
}
