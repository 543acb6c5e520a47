import { describe, expect, it } from 'vitest';
import { boundedDocumentCache } from '../../src/server/documentCache.js';

describe('boundedDocumentCache: what Yoga keeps of parsed documents', () => {
  it('keeps the most recently used entries, up to maxEntries', () => {
    const cache = boundedDocumentCache<number>({ maxEntries: 2, maxDocumentChars: 100 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('does not keep documents longer than maxDocumentChars', () => {
    const cache = boundedDocumentCache<number>({ maxEntries: 10, maxDocumentChars: 5 });
    cache.set('x'.repeat(6), 1);
    cache.set('short', 2);
    expect(cache.get('x'.repeat(6))).toBeUndefined();
    expect(cache.get('short')).toBe(2);
  });
});
