import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BackendRef, Failure } from './dispatcher.js';
import { upgradeHead } from './forwarding.js';

/** How an attempt ended: `done` (the WebSocket closed, or the client got an error), or a retry elsewhere. */
export type UpgradeResult = 'done' | { retry: 'unreached' | 'unanswered' | 'draining' };

export interface UpgradeAttempt {
  backend: BackendRef;
  req: IncomingMessage;
  client: Duplex;
  head: Buffer;
  timeoutMs: number;
  /** May a failure before the node's answer be retried elsewhere? (Else the client gets 502 or the 503.) */
  mayRetry: boolean;
  failed: (failure: Failure, error: unknown) => void;
}

/**
 * One try of a WebSocket upgrade on one node: the request head is re-sent as it came (forwarding.ts)
 * and once the node answers, bytes are piped both ways with no per-message work. The client's own
 * bytes flow only after that answer, so until then the attempt can be replayed on another node:
 * nothing happens on a node before its 101, so a refused or dropped connection, or a 503 (draining),
 * is retried. A node that does not answer within `timeoutMs` gets the client a 504; a failure with
 * no retry left, a 502 — never a hang.
 */
export function proxyUpgrade(attempt: UpgradeAttempt): Promise<UpgradeResult> {
  const { client, req, head, backend } = attempt;
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    let answered = false;
    let refused = false;
    let retrying = false;
    let timedOut = false;
    const upstream: Socket = connect({ host: backend.url.hostname, port: Number(backend.url.port) });
    upstream.setNoDelay(true);
    (client as Socket).setNoDelay?.(true);

    const settle = (result: UpgradeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('close', onClientClose);
      resolve(result);
    };
    const refuse = (status: string) => {
      // Once only: a failed connect reports 'error' and then 'close', and a second call would
      // destroy the client before the first status line is flushed.
      if (refused) return;
      refused = true;
      if (!answered && client.writable) client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else client.destroy();
    };
    const retry = (failure: Failure, error: unknown, reason: 'unreached' | 'unanswered' | 'draining') => {
      retrying = true;
      upstream.destroy();
      attempt.failed(failure, error);
      settle({ retry: reason });
    };
    const timer = setTimeout(() => {
      if (answered) return;
      timedOut = true;
      attempt.failed('timeout', new Error('upgrade timed out'));
      refuse('504 Gateway Timeout');
      upstream.destroy();
    }, attempt.timeoutMs);

    upstream.once('connect', () => {
      connected = true;
      upstream.write(upgradeHead(req));
      if (head.length > 0) upstream.write(head);
    });
    upstream.once('data', (first: Buffer) => {
      answered = true;
      clearTimeout(timer);
      if (attempt.mayRetry && first.subarray(0, 12).toString('latin1') === 'HTTP/1.1 503') {
        return retry('draining', new Error('the node refused the upgrade with 503 (draining)'), 'draining');
      }
      client.write(first);
      // Not `end`ing the client when the node ends: if it hangs up before answering, the client
      // must still get the 502 from the 'close' handler below, not a bare hang-up.
      upstream.pipe(client, { end: false });
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (retrying || settled) return;
      if (answered) return void client.destroy();
      if (timedOut) return;
      if (attempt.mayRetry && !client.destroyed) return retry('down', error, connected ? 'unanswered' : 'unreached');
      attempt.failed('down', error);
      refuse('502 Bad Gateway');
    });
    upstream.once('close', () => {
      clearTimeout(timer);
      if (retrying) return;
      if (!answered && !timedOut && !refused && attempt.mayRetry && !client.destroyed) {
        // Closed without a word before its answer: nothing was done there.
        return retry('down', new Error('the node closed the connection before answering the upgrade'), 'unanswered');
      }
      if (!answered) refuse('502 Bad Gateway');
      else client.end(); // flush what the node sent last (its close frame), then close
      settle('done');
    });
    const onClientClose = () => {
      if (retrying) return;
      upstream.destroy();
      settle('done');
    };
    client.once('close', onClientClose);
  });
}
