/** A plain-text table (no dependency): one row per figure, the baseline beside it, and a verdict. */

export type Verdict = 'PASS' | 'MISS' | '';

export interface Row {
  scenario: string;
  metric: string;
  roomlog: string;
  bare: string;
  /** roomlog ÷ bare, where a ratio means something. */
  ratio: string;
  target: string;
  result: Verdict;
}

const HEADERS: Record<keyof Row, string> = {
  scenario: 'scenario',
  metric: 'metric',
  roomlog: 'roomlog',
  bare: 'bare ws',
  ratio: 'ratio',
  target: 'target',
  result: 'result',
};
const RIGHT_ALIGNED = new Set<keyof Row>(['roomlog', 'bare', 'ratio']);

export function renderTable(rows: readonly Row[]): string {
  const keys = Object.keys(HEADERS) as (keyof Row)[];
  const width = (k: keyof Row): number => Math.max(HEADERS[k].length, ...rows.map((r) => r[k].length));
  const widths = keys.map(width);
  const cell = (k: keyof Row, text: string, i: number): string => (RIGHT_ALIGNED.has(k) ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (l: string, m: string, r: string): string => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const out = [line('┌', '┬', '┐'), `│ ${keys.map((k, i) => cell(k, HEADERS[k], i)).join(' │ ')} │`, line('├', '┼', '┤')];
  let previous = '';
  for (const row of rows) {
    if (previous && row.scenario !== previous) out.push(line('├', '┼', '┤'));
    const shown = { ...row, scenario: row.scenario === previous ? '' : row.scenario };
    out.push(`│ ${keys.map((k, i) => cell(k, shown[k], i)).join(' │ ')} │`);
    previous = row.scenario;
  }
  out.push(line('└', '┴', '┘'));
  return out.join('\n');
}

/** Formats a number for the table: thousands separators, `digits` decimals, `—` when unknown. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

export function verdict(ok: boolean | undefined): Verdict {
  return ok === undefined ? '' : ok ? 'PASS' : 'MISS';
}

/** The row of send acknowledgement latency, p50 / p99, of two measured runs side by side (ratio of the p99s). */
export function ackLatencyRow(scenario: string, a: { latency: { p50: number; p99: number } } | undefined, b: { latency: { p50: number; p99: number } } | undefined): Row {
  const cell = (m: typeof a) => (m ? `${fmt(m.latency.p50, 2)} / ${fmt(m.latency.p99, 2)}` : '—');
  return { scenario, metric: 'ack p50 / p99 ms', roomlog: cell(a), bare: cell(b), ratio: ratio(a?.latency.p99, b?.latency.p99), target: '', result: '' };
}
