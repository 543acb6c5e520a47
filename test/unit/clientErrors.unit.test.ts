import { describe, expect, it } from 'vitest';
import { causeOf, closeCause, errorTable, windowOf, type ClientError } from '../support/clientErrors.js';

describe('client-visible errors for the chaos report (test/support/clientErrors.ts)', () => {
  it('names the cause: HTTP status, GraphQL code, network error, close code', () => {
    expect(causeOf('HTTP 502')).toBe('HTTP 502');
    expect(causeOf('UNAVAILABLE: the history is being rebuilt from the log; retry shortly')).toBe('GraphQL UNAVAILABLE');
    expect(causeOf('network: ECONNRESET')).toBe('network ECONNRESET');
    expect(causeOf('resume on :4000: :4000 closed (1006) before connection_ack: Unexpected server response: 504')).toBe('HTTP 504');
    expect(causeOf('resume on :4000: :4000 closed (1006) before connection_ack: connect ECONNREFUSED 127.0.0.1:4000')).toBe('network ECONNREFUSED');
    expect(causeOf(':4000: {"id":"follow","type":"error","payload":[{"message":"m","extensions":{"code":"FORBIDDEN"}}]}')).toBe('GraphQL FORBIDDEN');
    expect(causeOf('resume on :4000: :4000 closed (4403) before connection_ack')).toBe('close 4403 before ack');
    expect(closeCause(1012)).toBe('close 1012');
    expect(closeCause(4403)).toBe('close 4403 (terminal)');
  });

  it('puts an error in the latest fault begun before the client saw it, within the tail', () => {
    const faults = [
      { name: 'kill', start: 100, end: 200 },
      { name: 'redis', start: 300, end: 400 },
    ];
    expect(windowOf({ endedAt: 50 }, faults, 50)).toBeNull();
    // Begun before the kill, seen failing after it: the kill's.
    expect(windowOf({ endedAt: 120 }, faults, 50)?.name).toBe('kill');
    expect(windowOf({ endedAt: 250 }, faults, 50)?.name).toBe('kill');
    expect(windowOf({ endedAt: 260 }, faults, 50)).toBeNull();
    expect(windowOf({ endedAt: 310 }, faults, 50)?.name).toBe('redis');
  });

  it('tabulates causes against fault windows', () => {
    const error = (endedAt: number, cause: string): ClientError => ({ at: endedAt, endedAt, cause, kind: 'send', detail: '' });
    const table = errorTable([error(120, 'HTTP 502'), error(130, 'HTTP 502'), error(900, 'HTTP 502'), error(310, 'GraphQL UNAVAILABLE')], [
      { name: 'kill', start: 100, end: 200 },
      { name: 'redis', start: 300, end: 400 },
    ], 0);
    expect(table.map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
      'client-visible errors by cause kill redis no fault total',
      'send GraphQL UNAVAILABLE 0 1 0 1',
      'send HTTP 502 2 0 1 3',
    ]);
  });
});
