import { describe, expect, it } from 'vitest';
import { serverGone } from '../../src/eventStore/postgresEventStore.js';

describe('PostgreSQL errors that mean "did not answer" (UNAVAILABLE to clients), not "answered no"', () => {
  it('socket errors, pg losing its connection, connection-exception and shutdown SQLSTATEs, no connections left', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '08006', '08001', '57P01', '57P03', '53300']) expect(serverGone({ code, message: 'x' })).toBe(true);
    expect(serverGone(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(serverGone(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });
  it('not the answers of a server that is there: a constraint, our own SQLSTATEs, a syntax error, rights', () => {
    for (const code of ['23505', 'RLW01', 'RLD01', '42601', '42501', '3D000', '28P01']) expect(serverGone({ code, message: 'x' })).toBe(false);
    expect(serverGone(undefined)).toBe(false);
    expect(serverGone(new Error('something else'))).toBe(false);
  });
});
