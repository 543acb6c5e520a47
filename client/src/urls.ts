/**
 * Where a client connects. A node is named by its base URL (`http://127.0.0.1:4000`), its
 * GraphQL endpoint, or its WebSocket URL; relative URLs resolve against the page in a browser.
 */

function absolute(url: string): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return base ? new URL(url, base) : new URL(url);
}

function withEndpoint(url: URL): URL {
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/graphql';
  return url;
}

/** `http://h:4000` → `ws://h:4000/graphql` (https → wss). */
export function toWebSocketUrl(url: string): string {
  const parsed = withEndpoint(absolute(url));
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  return parsed.toString();
}

/** `ws://h:4000/graphql` or `http://h:4000` → `http://h:4000/graphql`. */
export function toHttpUrl(url: string): string {
  const parsed = withEndpoint(absolute(url));
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  return parsed.toString();
}

/** What a URL chooser is told before each connection attempt. */
export interface UrlChoice {
  /** Consecutive failed attempts so far (0 after a connection was established). */
  attempt: number;
  /** The URL of the previous connection, if any. */
  previous: string | undefined;
  /** Whether the previous connection failed or ended abnormally (a node died, restarted, …). */
  previousFailed: boolean;
}

export type UrlChooser = (choice: UrlChoice) => string | Promise<string>;

/**
 * Sticks with one URL while it works and moves to the next after a failure, round robin: a client
 * given every node of a cluster fails over when its node goes away.
 */
export function roundRobin(urls: readonly string[]): UrlChooser {
  if (urls.length === 0) throw new Error('give at least one URL');
  let index = 0;
  return ({ previous, previousFailed }) => {
    if (previous !== undefined && previousFailed) index = (index + 1) % urls.length;
    return urls[index]!;
  };
}
