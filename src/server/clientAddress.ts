import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { boundedDocumentCache } from './documentCache.js';

/**
 * The client's address, for the per-address limits. It is the socket's peer, unless that peer is a
 * proxy this node trusts (TRUST_PROXY): then X-Forwarded-For is read from the right, each trusted
 * proxy's entry skipped, and the first address no trusted proxy added is the client. Read that way,
 * a client cannot pick its own address by sending the header itself: whatever it sends ends up to
 * the left of what the proxies it passed through appended. (The project's balancer appends its
 * client's address to X-Forwarded-For on HTTP requests and WebSocket upgrades alike.)
 */
export type TrustedProxies = (address: string) => boolean;

/** Networks named by TRUST_PROXY's keywords. */
const KEYWORDS: Record<string, Array<[string, number, 'ipv4' | 'ipv6']>> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  // RFC 1918, and IPv6 unique local addresses: a proxy in the same private network (containers).
  private: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * Parses TRUST_PROXY: `none` (or `false`), or a comma-separated list of `loopback`, `private`,
 * addresses and CIDR ranges (`10.1.0.0/16`). Throws an Error naming the entry it cannot read.
 */
export function parseTrustedProxies(value: string): TrustedProxies {
  const entries = value
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  if (entries.length === 0 || (entries.length === 1 && (entries[0] === 'none' || entries[0] === 'false'))) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const networks = KEYWORDS[entry];
    if (networks) {
      for (const [network, prefix, type] of networks) list.addSubnet(network, prefix, type);
      continue;
    }
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32) || (prefix !== undefined && !/^\d+$/.test(prefix))) {
      throw new Error(`"${entry}" is not loopback, private, an IP address or a CIDR range`);
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  // Answers kept by address: the peers a node sees are mostly the same few (its proxies, or
  // loopback), and a BlockList check builds address objects each time (a fortieth of accepting
  // a WebSocket connection). Bounded (the addresses used most recently), so a scan from many
  // addresses cannot grow it.
  // (An IPv6 address with a zone is at most 45 + zone characters; longer texts are not kept.)
  const known = boundedDocumentCache<boolean>({ maxEntries: 1_024, maxDocumentChars: 64 });
  return (address) => {
    let trusted = known.get(address);
    if (trusted === undefined) {
      const plain = unmapped(address);
      const family = isIP(plain);
      trusted = family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
      known.set(address, trusted);
    }
    return trusted;
  };
}

/** The address of the client behind `request` (see above); null when the socket has none. */
export function clientAddress(request: Pick<IncomingMessage, 'headers' | 'socket'>, trusted: TrustedProxies): string | null {
  const peer = request.socket?.remoteAddress;
  if (!peer) return null;
  let client = unmapped(peer);
  if (!trusted(client)) return client;
  const header = request.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i]!);
    // Not an address (a proxy wrote `unknown`, or a client wrote anything): stop at the last good one.
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted(hop)) break;
  }
  return client;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) as `1.2.3.4`. */
function unmapped(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : address;
}
