import type { IncomingMessage, ServerResponse } from 'node:http';
import { refusalFelt, verdictOf } from './admitAtAccept.js';
import { MAX_TRIES, failedOn, sendStatus, type BalancerState } from './balancerState.js';
import { proxyHttp, readBody, type RequestBody } from './httpProxy.js';
import { answerOwnEndpoint } from './ownEndpoints.js';

/**
 * One plain HTTP request: the balancer's own endpoints are answered here; a refused connection
 * hears why; anything else goes to the node the dispatcher picks, and to another when the first
 * never got it (at most MAX_TRIES nodes).
 */
export async function routeRequest(state: BalancerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (await answerOwnEndpoint(state, path, res)) return;
  const refusal = await verdictOf(state, req.socket);
  if (refusal) {
    refusalFelt(state, req.socket);
    res.setHeader('connection', 'close');
    return sendStatus(res, refusal.status, { error: refusal.reason });
  }
  state.metrics.requests.inc();
  const body = await readBody(req, state.config.RETRY_BODY_BYTES);
  if (!body) return; // the client went away while sending it
  return forwardRequest(state, req, res, body);
}

async function forwardRequest(state: BalancerState, req: IncomingMessage, res: ServerResponse, body: RequestBody): Promise<void> {
  const { dispatcher, metrics } = state;
  let retried: string | null = null;
  for (let tries = 1; ; tries++) {
    const outcome = await dispatcher.dispatch('request');
    if ('noBackend' in outcome) {
      // After a failed try, the client hears of that failure rather than of an empty pool.
      if (retried && retried !== 'draining') return sendStatus(res, 502, { error: 'the node did not answer; retry' });
      if (!retried) metrics.failures.inc({ reason: 'no_backend' });
      res.setHeader('retry-after', '1');
      return sendStatus(res, 503, { error: 'no node is ready; retry shortly' });
    }
    const { backend } = outcome;
    if (res.destroyed) return dispatcher.closed(backend, 'request');
    const result = await proxyHttp({
      agent: state.agent,
      backend,
      req,
      res,
      body,
      timeoutMs: state.config.UPSTREAM_TIMEOUT_MS,
      mayRetry: tries < MAX_TRIES,
      failed: failedOn(state, 'http_upstream', backend),
    });
    dispatcher.closed(backend, 'request');
    if (result === 'done' || res.destroyed) return;
    retried = result.retry;
    metrics.retries.inc({ reason: result.retry });
  }
}
