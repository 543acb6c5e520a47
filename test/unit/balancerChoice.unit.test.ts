import { describe, expect, it } from 'vitest';
import { Admission } from '../../balancer/admission.js';
import { choose, type Candidate } from '../../balancer/choose.js';

const backend = (id: string, reported: number, delta = 0, ready = true): Candidate => ({ id, ready, reported, delta });

describe('choose: least connections', () => {
  it('picks the ready backend with the fewest connections', () => {
    expect(choose([backend('a', 5), backend('b', 2), backend('c', 3)], 0)?.id).toBe('b');
  });

  it('skips backends that are not ready, and gives null when none is', () => {
    expect(choose([backend('a', 0, 0, false), backend('b', 9)], 0)?.id).toBe('b');
    expect(choose([backend('a', 0, 0, false)], 0)).toBeNull();
    expect(choose([], 0)).toBeNull();
  });

  it('breaks ties round-robin', () => {
    const all = [backend('a', 1), backend('b', 1), backend('c', 1)];
    expect([0, 1, 2, 3].map((turn) => choose(all, turn)?.id)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('counts what this balancer added since the last report on top of the report', () => {
    // b reported fewer, but this balancer has since sent it 4 more.
    expect(choose([backend('a', 5, 0), backend('b', 3, 4)], 0)?.id).toBe('a');
  });

  it('spreads a burst evenly when each pick updates the delta (one balancer, fresh start)', () => {
    const all = [backend('a', 0), backend('b', 0), backend('c', 0)];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let turn = 0; turn < 999; turn++) {
      const picked = choose(all, turn)!;
      picked.delta++;
      counts[picked.id]!++;
    }
    expect(counts).toEqual({ a: 333, b: 333, c: 333 });
  });

  it('keeps two balancers from piling onto one node: the reports carry each other’s load', () => {
    // Node a already holds 100 connections made through another balancer; this one sees it.
    const mine = [backend('a', 100), backend('b', 0), backend('c', 0)];
    for (let turn = 0; turn < 100; turn++) choose(mine, turn)!.delta++;
    expect(mine.map((b) => b.delta)).toEqual([0, 50, 50]);
  });
});

describe('Admission', () => {
  const limits = { maxTotal: 5, maxPerIp: 3, ratePerIp: 10, burstPerIp: 4 };

  it('caps open connections per IP, and frees a place on release', () => {
    const admission = new Admission(limits);
    expect([1, 2, 3].map(() => admission.admit('1.1.1.1', 0))).toEqual([null, null, null]);
    expect(admission.admit('1.1.1.1', 0)).toMatchObject({ status: 429 });
    admission.release('1.1.1.1');
    expect(admission.admit('1.1.1.1', 1_000)).toBeNull();
  });

  it('caps the rate of new connections per IP (token bucket)', () => {
    const admission = new Admission({ ...limits, maxPerIp: 100, maxTotal: 100 });
    for (let i = 0; i < 4; i++) expect(admission.admit('ip', 0)).toBeNull();
    expect(admission.admit('ip', 0)).toMatchObject({ status: 429, reason: expect.stringMatching(/new connections/) });
    expect(admission.admit('ip', 100)).toBeNull(); // 100 ms at 10/s = one token
  });

  it('caps the total across IPs with a 503', () => {
    const admission = new Admission(limits);
    for (const ip of ['a', 'a', 'b', 'b', 'c']) expect(admission.admit(ip, 0)).toBeNull();
    expect(admission.admit('d', 0)).toMatchObject({ status: 503 });
    expect(admission.openTotal).toBe(5);
  });
});
