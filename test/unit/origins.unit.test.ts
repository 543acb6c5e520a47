import { describe, expect, it } from 'vitest';
import { corsOptions, isAllowedOrigin, parseOrigins, SAME_ORIGIN_ONLY } from '../../src/server/origins.js';

describe('CORS_ORIGINS', () => {
  it('unset or empty: the node\'s own pages only', () => {
    expect(parseOrigins(undefined)).toBe(SAME_ORIGIN_ONLY);
    expect(parseOrigins(' , ')).toBe(SAME_ORIGIN_ONLY);
  });

  it('a list of origins, written as a browser sends them', () => {
    const policy = parseOrigins('https://Chat.Example.com, http://localhost:5173/ ,https://a.example:443');
    expect([...policy.origins].sort()).toEqual(['http://localhost:5173', 'https://a.example', 'https://chat.example.com']);
    expect(policy.any).toBe(false);
  });

  it('* alone: any site', () => {
    expect(parseOrigins('*').any).toBe(true);
    expect(() => parseOrigins('*, https://a.example')).toThrow(/alone/);
  });

  it.each(['chat.example.com', 'https://a.example/path', 'ftp://a.example', 'https://a.example?x=1', 'https://u:p@a.example', 'null'])('%s is refused', (value) => {
    expect(() => parseOrigins(value)).toThrow(/origin/);
  });
});

describe('isAllowedOrigin', () => {
  const listed = parseOrigins('https://chat.example.com');

  it('no Origin (not a browser) passes', () => {
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, undefined, 'node:4000')).toBe(true);
  });

  it('the page\'s own host passes, whatever the scheme (a TLS proxy in front)', () => {
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'http://127.0.0.1:4000', '127.0.0.1:4000')).toBe(true);
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'https://chat.example.com', 'Chat.Example.com')).toBe(true);
  });

  it('another site passes only when listed', () => {
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'https://evil.example', '127.0.0.1:4000')).toBe(false);
    expect(isAllowedOrigin(listed, 'https://chat.example.com', '127.0.0.1:4000')).toBe(true);
    expect(isAllowedOrigin(listed, 'https://evil.example', '127.0.0.1:4000')).toBe(false);
    expect(isAllowedOrigin(parseOrigins('*'), 'https://evil.example', '127.0.0.1:4000')).toBe(true);
  });

  it('`null` and malformed origins, or no Host to compare with, are refused', () => {
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'null', '127.0.0.1:4000')).toBe(false);
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'not a url', '127.0.0.1:4000')).toBe(false);
    expect(isAllowedOrigin(SAME_ORIGIN_ONLY, 'http://127.0.0.1:4000', undefined)).toBe(false);
  });
});

describe('corsOptions (Yoga)', () => {
  const request = (origin?: string) => new Request('http://node/graphql', { headers: origin ? { origin } : {} });

  it('no CORS headers for an unlisted origin or without one', () => {
    const options = corsOptions(parseOrigins('https://chat.example.com'));
    expect(options(request('https://evil.example'))).toBe(false);
    expect(options(request())).toBe(false);
    expect(corsOptions(SAME_ORIGIN_ONLY)(request('https://evil.example'))).toBe(false);
  });

  it('a listed origin is allowed, never with credentials', () => {
    const options = corsOptions(parseOrigins('https://chat.example.com'))(request('https://chat.example.com'));
    expect(options).toMatchObject({ credentials: false });
  });
});
