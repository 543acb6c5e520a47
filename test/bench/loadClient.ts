/**
 * The load-generator child process. It speaks to run.ts over the Node IPC channel: one request in,
 * one reply out (see load/protocol.ts). It exits when the parent goes away, so a crashed bench
 * never leaves thousands of sockets behind.
 */
import { handleAbuse, isAbuseRequest } from './load/abuse.js';
import { runConnectRate } from './load/connectRate.js';
import { FanoutLoad } from './load/fanout.js';
import type { Envelope, LoadReply, LoadRequest } from './load/protocol.js';
import { runThroughput } from './load/throughput.js';

/** One fan-out setup per key (see `Keyed` in load/protocol.ts). */
const fanouts = new Map<string, FanoutLoad>();

function fanoutFor(key: string | undefined, url: string): FanoutLoad {
  let f = fanouts.get(key ?? '');
  if (!f) fanouts.set(key ?? '', (f = new FanoutLoad(url)));
  return f;
}

function existing(key: string | undefined): FanoutLoad {
  const f = fanouts.get(key ?? '');
  if (!f) throw new Error(`prepareRoom first (key ${key ?? '(default)'})`);
  return f;
}

async function handle(req: LoadRequest): Promise<unknown> {
  if (isAbuseRequest(req)) return handleAbuse(req);
  switch (req.cmd) {
    case 'throughput':
      return runThroughput(req);
    case 'connectRate':
      return runConnectRate(req);
    case 'prepareRoom': {
      fanouts.get(req.key ?? '')?.closeAll();
      const f = new FanoutLoad(req.url);
      if (req.sessionsFrom !== undefined) f.adoptSessions(existing(req.sessionsFrom));
      fanouts.set(req.key ?? '', f);
      return f.prepareRoom(req.publishers);
    }
    case 'createSessions':
      return fanoutFor(req.key, req.url).createSessions(req.count);
    case 'openSubscribers':
      return fanoutFor(req.key, req.url).openSubscribers(req);
    case 'publish':
      return existing(req.key).publish(req);
    case 'closeSubscribers':
      return existing(req.key).closeSubscribers();
    case 'closeAll': {
      const result = fanouts.get(req.key ?? '')?.closeAll() ?? { closed: 0 };
      fanouts.delete(req.key ?? '');
      return result;
    }
  }
}

if (!process.send) {
  console.error('loadClient.ts runs as a child of test/bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}

process.on('message', (msg: Envelope<LoadRequest>) => {
  handle(msg).then(
    (result) => process.send?.({ reqId: msg.reqId, ok: true, result } satisfies LoadReply),
    (e: unknown) => process.send?.({ reqId: msg.reqId, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies LoadReply),
  );
});
process.on('disconnect', () => process.exit(0));
// A socket error surfacing outside a request must not kill the whole run; report it and go on.
process.on('uncaughtException', (e) => console.error('[loadClient] uncaught:', e));
process.on('unhandledRejection', (e) => console.error('[loadClient] unhandled rejection:', e));
