import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { preferredEncoding, staticAsset } from '../../src/server/staticAsset.js';

describe('preferredEncoding (Accept-Encoding)', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', null],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
    ['GZIP ; q=1.0', 'gzip'],
  ] as const)('%s → %s', (header, expected) => {
    expect(preferredEncoding(header)).toBe(expected);
  });
});

describe('staticAsset', () => {
  const text = 'GraphiQL '.repeat(2_000);

  it('compresses once per encoding and keeps it', async () => {
    const asset = staticAsset(text, 'text/plain', 'no-cache');
    const br = await asset.encoded('br');
    expect(br).not.toBeNull();
    expect(brotliDecompressSync(br!).toString()).toBe(text);
    expect(await asset.encoded('br')).toBe(br);
    expect(gunzipSync((await asset.encoded('gzip'))!).toString()).toBe(text);
  });

  it('a small body is sent as it is', async () => {
    expect(await staticAsset('tiny', 'text/plain', 'no-cache').encoded('br')).toBeNull();
  });

  it('the same bytes, the same hash; other bytes, another', () => {
    expect(staticAsset(text, 'a', 'b').hash).toBe(staticAsset(Buffer.from(text), 'c', 'd').hash);
    expect(staticAsset(`${text}!`, 'a', 'b').hash).not.toBe(staticAsset(text, 'a', 'b').hash);
  });
});
