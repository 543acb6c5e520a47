import type { Socket } from 'node:net';
import type { BalancerState } from './balancerState.js';
import type { Refusal } from './dispatcher.js';

/**
 * Admission is per TCP connection, decided when it is accepted: an idle connection counts like a
 * busy one (else idle ones are held past the caps). One refused is not counted: its first
 * request, if it sends one at once, gets the reason (429/503), and it is closed within a second
 * either way. A WebSocket is one connection, and so is a keep-alive HTTP client however many
 * requests it sends. The count is released when the connection closes.
 */
export function admit(state: BalancerState, socket: Socket): void {
  const { dispatcher } = state;
  const ip = socket.remoteAddress ?? 'unknown';
  const verdict = dispatcher.admit(ip).then((refusal) => {
    if (!refusal) {
      if (socket.destroyed) dispatcher.release(ip);
      else socket.once('close', () => dispatcher.release(ip));
      return null;
    }
    const linger = setTimeout(() => {
      refusalFelt(state, socket);
      socket.destroy();
    }, state.refusedLingerMs);
    socket.once('close', () => clearTimeout(linger));
    return refusal;
  });
  state.verdicts.set(socket, verdict);
}

/** The connection's admission: null when it was admitted (or never went through `admit`). */
export const verdictOf = (state: BalancerState, socket: Socket): Promise<Refusal | null> =>
  state.verdicts.get(socket) ?? Promise.resolve(null);

/**
 * A refusal counts in the metrics once it is felt: told to a request or an upgrade, or the idle
 * connection closed; not when the connection only asked for /healthz or /metrics.
 */
export function refusalFelt(state: BalancerState, socket: Socket): void {
  if (state.felt.has(socket)) return;
  state.felt.add(socket);
  state.metrics.failures.inc({ reason: 'refused' });
}
