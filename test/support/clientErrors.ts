/**
 * What clients saw go wrong, by cause and by the fault it happened under, for the chaos tests: a
 * send attempt that failed (HTTP status, GraphQL code, network error), a WebSocket closed under a
 * follower (close code), a subscription that failed or a resume that did not connect. Each is one
 * `ClientError`; `errorTable` prints them as rows of causes against columns of fault windows.
 */
import { closeCodeInfo } from '../../schema/codes.js';

export interface ClientError {
  /** When it started (a send attempt) or happened (a close, a failure): Date.now(). */
  at: number;
  /** A send attempt's end; equal to `at` for the others. */
  endedAt: number;
  /** `HTTP 502`, `GraphQL UNAVAILABLE`, `close 1012`, `network ECONNRESET`, … */
  cause: string;
  /** `send`, `socket` (a close under a follower) or `subscribe` (a subscription error or a failed resume). */
  kind: 'send' | 'socket' | 'subscribe';
  /** In the failure's own words (where, and what it said), for a report. */
  detail: string;
}

export interface FaultWindow {
  name: string;
  start: number;
  end: number;
}

/**
 * The cause in a failure's words: sendOnce's outcomes (`HTTP 503`, `UNAVAILABLE: …`,
 * `network: ECONNRESET`), a follower's failures (a subscription's error frame, `closed (1006)
 * before connection_ack: Unexpected server response: 502`, `no connection_ack …`).
 */
export function causeOf(text: string): string {
  const status = /Unexpected server response: (\d{3})/.exec(text) ?? /^HTTP (\d{3})/.exec(text);
  if (status) return `HTTP ${status[1]}`;
  const sent = /^network: (\S+)/.exec(text);
  if (sent) return `network ${sent[1]}`;
  const code = /"code":"([A-Z_]+)"/.exec(text) ?? /^([A-Z][A-Z_]+): /.exec(text);
  if (code) return `GraphQL ${code[1]}`;
  const network = /\b(E[A-Z]{4,})\b/.exec(text);
  if (network) return `network ${network[1]}`;
  const closed = /closed \((\d+)\) before connection_ack/.exec(text);
  if (closed) return `close ${closed[1]} before ack`;
  if (/"type":"complete"/.test(text)) return 'subscription completed';
  if (/no connection_ack/.test(text)) return 'no connection_ack';
  return text.slice(0, 40);
}

/** A close code as a cause, saying whether it asks the client to reconnect. */
export const closeCause = (code: number): string => `close ${code}${closeCodeInfo(code).reconnect ? '' : ' (terminal)'}`;

/**
 * The window an error belongs to: the latest fault that began at or before it, if the error came
 * before that fault's end plus `tailMs` (its after-effects); otherwise none.
 */
export function windowOf<F extends FaultWindow>(error: Pick<ClientError, 'endedAt'>, faults: F[], tailMs: number): F | null {
  // A failed request belongs where the client saw it fail: one in flight when a node died ends after it.
  const began = faults.filter((f) => f.start <= error.endedAt).sort((a, b) => b.start - a.start)[0];
  return began && error.endedAt <= began.end + tailMs ? began : null;
}

/** `rows` of causes × columns of fault windows (plus "no fault" and the total), for console.log. */
export function errorTable(errors: ClientError[], faults: FaultWindow[], tailMs: number): string[] {
  const columns = [...faults.map((f) => f.name), 'no fault', 'total'];
  const counts = new Map<string, number[]>();
  for (const error of errors) {
    const key = `${error.kind.padEnd(9)} ${error.cause}`;
    const row = counts.get(key) ?? columns.map(() => 0);
    const window = windowOf(error, faults, tailMs);
    row[window ? faults.indexOf(window) : faults.length]!++;
    row[columns.length - 1]!++;
    counts.set(key, row);
  }
  const width = Math.max(14, ...columns.map((c) => c.length + 2));
  const line = (label: string, cells: Array<string | number>) => `  ${label.padEnd(34)}${cells.map((c) => String(c).padStart(width)).join('')}`;
  return [
    line('client-visible errors by cause', columns),
    ...[...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, row]) => line(key, row)),
    ...(counts.size === 0 ? [line('(none)', columns.map(() => 0))] : []),
  ];
}
