import type { ChildProcess } from 'node:child_process';
import type { BackendRef, Dispatch, Dispatcher, Failure, Kind, PoolStatus, Refusal } from './dispatcher.js';
import { answer, ask, tell, type Peer } from './workerRpc.js';

/**
 * The primary's dispatcher, serving every worker over IPC. It remembers what each worker holds
 * (admitted IPs, open connections per backend), so that when a worker dies its connections are
 * given back at once instead of counting against the caps and the backends' loads for good.
 */
export function serveDispatcher(dispatcher: Dispatcher): {
  workerGone(worker: ChildProcess): void;
  /** Open backend connections each worker holds, by pid. */
  holdings(): Array<{ pid: number; open: number }>;
} {
  // Per worker: admitted IPs, and open connections per backend and kind (key `id kind`).
  const held = new Map<ChildProcess, { ips: Map<string, number>; backends: Map<string, BackendRef & { kind: Kind; count: number }> }>();
  const ledger = (worker: Peer) => {
    if (!worker) throw new Error('asked by a process that is not a worker');
    let entry = held.get(worker);
    if (!entry) held.set(worker, (entry = { ips: new Map(), backends: new Map() }));
    return entry;
  };
  const take = <K>(map: Map<K, number>, key: K): boolean => {
    const n = map.get(key) ?? 0;
    if (n === 0) return false;
    if (n === 1) map.delete(key);
    else map.set(key, n - 1);
    return true;
  };

  answer('admit', async (payload, from) => {
    const ip = String(payload);
    const mine = ledger(from);
    const refusal = await dispatcher.admit(ip);
    if (!refusal) mine.ips.set(ip, (mine.ips.get(ip) ?? 0) + 1);
    return refusal;
  });
  answer('release', (payload, from) => {
    const ip = String(payload);
    if (take(ledger(from).ips, ip)) dispatcher.release(ip);
  });
  answer('dispatch', async (payload, from) => {
    const kind = payload as Kind;
    const mine = ledger(from);
    const outcome = await dispatcher.dispatch(kind);
    if ('noBackend' in outcome) return outcome;
    const { id, url } = outcome.backend;
    const key = `${id} ${kind}`;
    const entry = mine.backends.get(key) ?? { id, url, kind, count: 0 };
    entry.count++;
    mine.backends.set(key, entry);
    return { backend: { id, url: url.href } };
  });
  answer('closed', (payload, from) => {
    const { id, kind } = payload as { id: string; kind: Kind };
    const entry = ledger(from).backends.get(`${id} ${kind}`);
    if (!entry || entry.count === 0) return;
    entry.count--;
    dispatcher.closed(entry, kind);
  });
  answer('failed', (payload) => {
    const { id, url, failure } = payload as { id: string; url: string; failure: Failure };
    dispatcher.failed({ id, url: new URL(url) }, failure);
  });
  answer('status', () => dispatcher.status());

  return {
    holdings: () =>
      [...held].map(([worker, mine]) => ({ pid: worker.pid ?? 0, open: [...mine.backends.values()].reduce((n, b) => n + b.count, 0) })),
    workerGone(worker) {
      const mine = held.get(worker);
      held.delete(worker);
      if (!mine) return;
      for (const [ip, count] of mine.ips) for (let i = 0; i < count; i++) dispatcher.release(ip);
      for (const entry of mine.backends.values()) for (let i = 0; i < entry.count; i++) dispatcher.closed(entry, entry.kind);
    },
  };
}

/** A worker's dispatcher: every decision is the primary's (one IPC round trip per accepted connection, and per request or upgrade). */
export function dispatcherFromPrimary(): Dispatcher {
  const urls = new Map<string, URL>();
  const ref = (id: string, href: string): BackendRef => {
    let url = urls.get(href);
    if (!url) urls.set(href, (url = new URL(href)));
    return { id, url };
  };
  return {
    admit: (ip) =>
      ask<Refusal | null>(null, 'admit', ip).catch(
        // No answer (the primary is going away): refuse rather than admit past the caps.
        (): Refusal => ({ status: 503, reason: 'balancer is restarting' }),
      ),
    release: (ip) => tell(null, 'release', ip),
    async dispatch(kind) {
      const outcome = await ask<Dispatch | { backend: { id: string; url: string } }>(null, 'dispatch', kind).catch((): Dispatch => ({ noBackend: true }));
      if ('backend' in outcome) return { backend: ref(outcome.backend.id, String(outcome.backend.url)) };
      return outcome;
    },
    closed: (backend, kind) => tell(null, 'closed', { id: backend.id, kind }),
    // Urgent: the request is retried (or the client told) right after, and the next pick must skip it.
    failed: (backend, failure) => tell(null, 'failed', { id: backend.id, url: backend.url.href, failure }, { urgent: true }),
    status: () => ask<PoolStatus>(null, 'status', null),
    start: async () => {},
    stop: async () => {},
  };
}
