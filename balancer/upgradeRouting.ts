import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { refusalFelt, verdictOf } from './admitAtAccept.js';
import { MAX_TRIES, failedOn, type BalancerState } from './balancerState.js';
import { proxyUpgrade } from './upgradeProxy.js';

/**
 * One WebSocket upgrade: a refused connection hears why; else it goes to the node the dispatcher
 * picks, and to another when the first never got it (at most MAX_TRIES nodes).
 */
export function routeUpgrade(state: BalancerState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // The HTTP server armed its idle timer on this socket and, on upgrade, removes only the
  // listener: the timer would still be re-armed on every chunk piped. Idle WebSockets are the
  // node's to close (its pings), so disarm it.
  (socket as Socket).setTimeout(0);
  socket.on('error', () => socket.destroy());
  state.upgraded.add(socket);
  socket.once('close', () => state.upgraded.delete(socket));
  const reject = (status: string): void => void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  void (async () => {
    const refusal = await verdictOf(state, req.socket);
    if (refusal) {
      refusalFelt(state, req.socket);
      return reject(refusal.status === 429 ? '429 Too Many Requests' : '503 Service Unavailable');
    }
    state.metrics.upgrades.inc();
    await forwardUpgrade(state, req, socket, head, reject);
  })();
}

async function forwardUpgrade(state: BalancerState, req: IncomingMessage, socket: Duplex, head: Buffer, reject: (status: string) => void): Promise<void> {
  const { dispatcher, metrics } = state;
  let retried: string | null = null;
  for (let tries = 1; ; tries++) {
    const outcome = await dispatcher.dispatch('socket');
    if ('noBackend' in outcome) {
      if (retried && retried !== 'draining') return reject('502 Bad Gateway');
      if (!retried) metrics.failures.inc({ reason: 'no_backend' });
      return reject('503 Service Unavailable');
    }
    const { backend } = outcome;
    if (socket.destroyed) return dispatcher.closed(backend, 'socket');
    const result = await proxyUpgrade({
      backend,
      req,
      client: socket,
      head,
      timeoutMs: state.config.UPSTREAM_TIMEOUT_MS,
      mayRetry: tries < MAX_TRIES,
      failed: failedOn(state, 'upgrade_upstream', backend),
    });
    dispatcher.closed(backend, 'socket');
    if (result === 'done' || socket.destroyed) return;
    retried = result.retry;
    metrics.retries.inc({ reason: result.retry });
  }
}
