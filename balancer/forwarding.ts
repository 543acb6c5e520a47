import type { IncomingMessage } from 'node:http';

// Hop-by-hop headers are for one connection only and must not be forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** The client's address as the next hop should see it: appended to any X-Forwarded-For it sent. */
export function forwardedFor(request: IncomingMessage): string {
  const previous = request.headers['x-forwarded-for'];
  const client = request.socket.remoteAddress ?? '';
  return previous ? `${Array.isArray(previous) ? previous.join(', ') : previous}, ${client}` : client;
}

/** End-to-end headers of a request or response, for the next hop. */
export function endToEnd(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

/** A plain HTTP request's headers for the node: end-to-end ones, plus where the client is. */
export function requestHeaders(req: IncomingMessage): Record<string, string | string[]> {
  return { ...endToEnd(req.headers), 'x-forwarded-for': forwardedFor(req), 'x-forwarded-proto': 'http' };
}

/**
 * A WebSocket upgrade's request head, re-sent as the client sent it (subprotocol and every header
 * kept) with one X-Forwarded-For carrying the client's address.
 */
export function upgradeHead(req: IncomingMessage): string {
  const lines = [`${req.method} ${req.url} HTTP/1.1`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.toLowerCase() === 'x-forwarded-for') continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  lines.push(`X-Forwarded-For: ${forwardedFor(req)}`, 'X-Forwarded-Proto: http');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
