/**
 * New-connection rate: `concurrency` workers each loop open socket → upgrade → connection_init →
 * connection_ack → clean close (waiting until the socket has closed), until the time or the
 * connection budget runs out. Every connection uses the same session (only the handshake is measured).
 */
import { randomUUID } from 'node:crypto';
import { GqlSocket } from './gqlSocket.js';
import { createSession } from './http.js';
import type { ConnectRateRequest, ConnectRateResult } from './protocol.js';
import { Histogram } from './stats.js';

export async function runConnectRate(req: ConnectRateRequest): Promise<ConnectRateResult> {
  const session = await createSession(req.urls[0]!, `bench-connect-${randomUUID().slice(0, 8)}`);
  const wsUrls = req.urls.map((u) => u.replace(/^http/, 'ws'));
  const hist = new Histogram();
  const closeHist = new Histogram();
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const end = start + req.durationMs;
  await Promise.all(
    Array.from({ length: req.concurrency }, async () => {
      while (performance.now() < end && next < req.maxConnections) {
        const i = next++;
        const t0 = performance.now();
        try {
          const sock = await GqlSocket.connect(wsUrls[i % wsUrls.length]!, session.token, 10_000);
          const t1 = performance.now();
          hist.record(t1 - t0);
          await sock.closeAndWait(5_000);
          closeHist.record(performance.now() - t1);
          completed++;
        } catch (e) {
          failed++;
          firstError ??= e instanceof Error ? e.message : String(e);
          // A refused or failing front must not turn this into a busy loop.
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  return { completed, failed, firstError, elapsedMs, perSecond: (completed * 1000) / elapsedMs, latency: hist.summary(), closeLatency: closeHist.summary() };
}
