/**
 * A random id for `clientMessageId`. `crypto.randomUUID` exists only in secure contexts in a
 * browser (a page on a LAN address over http is not one), so fall back to getRandomValues.
 */
export function newClientMessageId(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
