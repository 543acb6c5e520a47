import type { IncomingMessage } from 'node:http';

/**
 * Headers that make the node's pages harder to abuse from other sites (README, "Limits and abuse").
 * On every response: no MIME sniffing, and no Referer sent onwards (a link in a message must not
 * tell another site which room it was clicked in).
 */
export const COMMON_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** What may connect back: the node itself, over HTTP and WebSocket (`'self'` covers ws: only in newer browsers). */
function connectSources(host: string | undefined): string {
  // The Host header goes into the policy: anything but a plain host[:port] is left out.
  const safe = host !== undefined && /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(host);
  return safe ? `'self' ws://${host} wss://${host}` : `'self'`;
}

const policy = (directives: Record<string, string>) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');

/** Never framed (clickjacking), never posting forms, no <base> games. */
const LOCKED = { 'base-uri': "'none'", 'form-action': "'none'", 'frame-ancestors': "'none'" };

/**
 * The web chat: only its own scripts and styles (Vite builds them into /assets, no inline code),
 * images from itself or inline data: (its favicon), and connections to this node.
 */
export function webChatHeaders(req: IncomingMessage): Record<string, string> {
  return {
    ...COMMON_SECURITY_HEADERS,
    'x-frame-options': 'DENY',
    'content-security-policy': policy({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'font-src': "'self'",
      'connect-src': connectSources(req.headers.host),
      'manifest-src': "'self'",
      ...LOCKED,
    }),
  };
}

/** The page shown while the web chat is not built: plain HTML with inline style, nothing to run. */
export function hintPageHeaders(): Record<string, string> {
  return {
    ...COMMON_SECURITY_HEADERS,
    'x-frame-options': 'DENY',
    'content-security-policy': policy({ 'default-src': "'none'", 'style-src': "'unsafe-inline'", ...LOCKED }),
  };
}

/**
 * GraphiQL: its scripts come from this node (no inline script: its options travel as JSON data).
 * Looser than the chat in two places, both for its editor (Monaco): styles may be inline, since
 * it writes <style> elements and style attributes as it renders, and its workers may start from
 * blob: URLs. Its fonts and icons are inline data: URLs.
 */
export function graphiqlHeaders(req: IncomingMessage): Record<string, string> {
  return {
    ...COMMON_SECURITY_HEADERS,
    'x-frame-options': 'DENY',
    'content-security-policy': policy({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'img-src': "'self' data: blob:",
      'font-src': "'self' data:",
      'connect-src': connectSources(req.headers.host),
      'worker-src': "'self' blob:",
      ...LOCKED,
    }),
  };
}
