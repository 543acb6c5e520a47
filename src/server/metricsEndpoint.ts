import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { bearerToken } from '../auth/sessions.js';
import { COMMON_SECURITY_HEADERS } from './securityHeaders.js';

/**
 * /metrics tells anyone who asks how busy the node is, how many rooms it follows and how its
 * process is doing. By default it stays where it was (the balancer's health tooling and the
 * benchmarks read it on the API port); METRICS_TOKEN asks for `Authorization: Bearer <token>`,
 * and METRICS_PORT serves it on a listener of its own, which can be bound to an internal address
 * (METRICS_HOST) and is then the only place it is served (README, "Limits and abuse").
 */
export function metricsHandler(registry: Registry, token: string | undefined) {
  const expected = token === undefined ? null : digest(token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (expected) {
      const given = bearerToken(req.headers.authorization);
      // Compared as digests: equal lengths, and no timing clue about how much of it matched.
      if (given === null || !timingSafeEqual(digest(given), expected)) {
        res.writeHead(401, { ...COMMON_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
        res.end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
        return;
      }
    }
    const body = await registry.metrics();
    res.writeHead(200, { ...COMMON_SECURITY_HEADERS, 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** A listener that serves /metrics and nothing else. */
export async function listenForMetrics(options: {
  host: string;
  port: number;
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  onError: (error: unknown) => void;
}): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('only /metrics here\n');
      return;
    }
    options.handle(req, res).catch((error) => {
      options.onError(error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
