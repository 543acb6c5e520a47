/**
 * The cache Yoga keeps of parsed documents (and of parse errors), keyed by the document's text.
 * Yoga's own holds 1,024 documents of any size for an hour: a client sending a thousand different
 * 60 KB documents pinned hundreds of megabytes (the fuzz test found it). This one keeps only
 * documents up to `maxDocumentChars` (a real client's operations are a few hundred characters,
 * GraphiQL's introspection a few thousand), the `maxEntries` used most recently. Other answers
 * kept by a short text use it too (frame heads by operation id, trusted-proxy answers by address).
 */
export interface DocumentCache<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
}

export function boundedDocumentCache<T>(options: { maxEntries: number; maxDocumentChars: number }): DocumentCache<T> {
  const entries = new Map<string, T>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        // Most recently used last: a Map iterates in insertion order.
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      if (key.length > options.maxDocumentChars) return;
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}
