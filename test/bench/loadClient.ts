/**
 * The load-generator child process. It speaks to run.ts over the Node IPC channel: one request in,
 * one reply out (see load/protocol.ts). It exits when the parent goes away, so a crashed bench
 * never leaves thousands of sockets behind.
 */
import { FanoutLoad } from './load/fanout.js';
import type { Envelope, LoadReply, LoadRequest } from './load/protocol.js';
import { runThroughput } from './load/throughput.js';

let fanout: FanoutLoad | undefined;

function fanoutFor(url: string): FanoutLoad {
  fanout ??= new FanoutLoad(url);
  return fanout;
}

async function handle(req: LoadRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'throughput':
      return runThroughput(req);
    case 'prepareRoom':
      fanout?.closeAll();
      fanout = new FanoutLoad(req.url);
      return fanout.prepareRoom();
    case 'createSessions':
      return fanoutFor(req.url).createSessions(req.count);
    case 'openSubscribers':
      return fanoutFor(req.url).openSubscribers(req);
    case 'publish':
      if (!fanout) throw new Error('prepareRoom first');
      return fanout.publish(req);
    case 'closeAll': {
      const result = fanout?.closeAll() ?? { closed: 0 };
      fanout = undefined;
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
