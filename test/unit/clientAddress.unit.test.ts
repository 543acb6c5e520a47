import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../../src/server/clientAddress.js';

const request = (peer: string | undefined, forwardedFor?: string) => ({
  socket: { remoteAddress: peer } as never,
  headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
});

describe('parseTrustedProxies (TRUST_PROXY)', () => {
  it('none (or false, or nothing) trusts nobody', () => {
    for (const value of ['none', 'false', '', ' ']) expect(parseTrustedProxies(value)('127.0.0.1')).toBe(false);
  });

  it('loopback, private, addresses and CIDR ranges, mixed', () => {
    const trusted = parseTrustedProxies('loopback, 198.51.100.7, 203.0.113.0/24, 2001:db8::/32');
    expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '198.51.100.7', '203.0.113.200', '2001:db8:5::1'].map(trusted)).toEqual([true, true, true, true, true, true, true]);
    expect(['198.51.100.8', '203.0.114.1', '10.0.0.1', '2001:db9::1', 'not an address'].map(trusted)).toEqual([false, false, false, false, false]);
    const lan = parseTrustedProxies('private');
    expect(['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fd00::1', '172.32.0.1', '8.8.8.8'].map(lan)).toEqual([true, true, true, true, true, false, false]);
  });

  it('answers alike for an address asked again, also past the addresses it keeps answers for', () => {
    const trusted = parseTrustedProxies('10.0.0.0/8,::1');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1_500; i++) expect(trusted(`10.0.${i >> 8}.${i & 255}`)).toBe(true);
      for (let i = 0; i < 1_500; i++) expect(trusted(`11.0.${i >> 8}.${i & 255}`)).toBe(false);
      expect(trusted('::ffff:10.1.2.3')).toBe(true);
      expect(trusted('::1')).toBe(true);
      expect(trusted('not an address')).toBe(false);
    }
  });

  it.each(['localhost', '10.0.0.0/33', '1.2.3', '10.0.0.0/x', 'loopback,,bogus'])('refuses %j, naming the entry', (value) => {
    expect(() => parseTrustedProxies(value)).toThrow(/is not loopback, private, an IP address or a CIDR range/);
  });
});

describe('clientAddress', () => {
  const loopback = parseTrustedProxies('loopback');

  it('the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request('198.51.100.9', '1.2.3.4'), loopback)).toBe('198.51.100.9');
    expect(clientAddress(request('::ffff:198.51.100.9'), loopback)).toBe('198.51.100.9');
  });

  it('behind a trusted proxy: the rightmost address no trusted proxy added', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.5'), loopback)).toBe('203.0.113.5');
    // The client sent its own header: the proxy appended the real address after it.
    expect(clientAddress(request('127.0.0.1', '1.2.3.4, 203.0.113.5'), loopback)).toBe('203.0.113.5');
    // Two trusted hops.
    expect(clientAddress(request('127.0.0.1', '203.0.113.5, 127.0.0.2'), loopback)).toBe('203.0.113.5');
    // Several headers count as one list.
    expect(clientAddress({ socket: { remoteAddress: '127.0.0.1' } as never, headers: { 'x-forwarded-for': ['1.2.3.4', '203.0.113.5'] as never } }, loopback)).toBe('203.0.113.5');
  });

  it('a trusted proxy without the header, or with garbage in it: the last address that can be told', () => {
    expect(clientAddress(request('127.0.0.1'), loopback)).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1', 'unknown'), loopback)).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1', '203.0.113.5, garbage, 127.0.0.3'), loopback)).toBe('127.0.0.3');
  });

  it('no socket address: null', () => {
    expect(clientAddress(request(undefined, '1.2.3.4'), loopback)).toBeNull();
  });
});
