import type { ServerResponse } from 'node:http';
import { sendStatus, type BalancerState } from './balancerState.js';

/**
 * The balancer's own endpoints: /healthz (the pool as the dispatcher sees it, and with several
 * processes each one's open connections) and /metrics. They answer whatever the caps say, and
 * close the connection after: a monitor's connection would otherwise sit in its pool, counted
 * against its address. False: `path` is not one of them.
 */
export async function answerOwnEndpoint(state: BalancerState, path: string | undefined, res: ServerResponse): Promise<boolean> {
  if (path === '/healthz') {
    res.setHeader('connection', 'close');
    await answerHealth(state, res);
    return true;
  }
  if (path === '/metrics') {
    res.setHeader('connection', 'close');
    await answerMetrics(state, res);
    return true;
  }
  return false;
}

async function answerHealth(state: BalancerState, res: ServerResponse): Promise<void> {
  const [pool, processes] = await Promise.all([state.dispatcher.status(), state.options.processes?.()]).catch(() => [null, undefined]);
  if (!pool) return sendStatus(res, 503, { status: 'no answer from the primary' });
  return sendStatus(res, 200, { status: 'ok', panic: pool.panic, backends: pool.backends, ...(processes ? { processes } : {}) });
}

async function answerMetrics(state: BalancerState, res: ServerResponse): Promise<void> {
  const { registry } = state;
  const text = await (state.options.metrics ?? (() => registry.metrics()))().catch(() => null);
  if (text === null) return sendStatus(res, 503, { error: 'metrics unavailable' });
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(text);
}
