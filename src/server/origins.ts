/**
 * Which web pages may talk to the node from a browser (CORS_ORIGINS, README "Limits and abuse").
 *
 * By default only the node's own pages (the web chat and GraphiQL, served at the same origin) may:
 * no CORS headers are sent, so a browser keeps other sites from reading any answer, and WebSocket
 * upgrades whose Origin is another site are refused. Clients outside a browser send no Origin and
 * are not concerned. Sessions are bearer tokens, never cookies, so CORS never allows credentials.
 */
export interface OriginPolicy {
  /** `*`: any site may call the API (each caller still needs its own token). */
  any: boolean;
  /** Exact origins (`https://chat.example.com`), as a browser sends them. */
  origins: ReadonlySet<string>;
}

export const SAME_ORIGIN_ONLY: OriginPolicy = { any: false, origins: new Set() };

/** `https://a.example, http://localhost:5173`, or `*`; empty: the node's own origin only. Throws on a malformed entry. */
export function parseOrigins(value: string | undefined): OriginPolicy {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return SAME_ORIGIN_ONLY;
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('`*` stands alone');
    return { any: true, origins: new Set() };
  }
  return { any: false, origins: new Set(entries.map(canonicalOrigin)) };
}

/** `https://Chat.Example.com:443/` → `https://chat.example.com`; anything but a bare origin throws. */
function canonicalOrigin(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new Error(`${entry} is not an origin such as https://chat.example.com`);
  }
  const bare = (url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username && !url.password;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
    throw new Error(`${entry} is not an origin such as https://chat.example.com (scheme, host and port only)`);
  }
  return url.origin;
}

/** Whether `origin` is one the policy names (same-origin pages are decided by `isAllowedOrigin`). */
export function isListedOrigin(policy: OriginPolicy, origin: string): boolean {
  return policy.any || policy.origins.has(origin);
}

/**
 * Whether a request with this Origin may proceed: no Origin (not a browser, or a same-origin GET),
 * an origin whose host is the one the request was sent to (the node's own pages, also through the
 * balancer, which passes Host on), or a listed one.
 */
export function isAllowedOrigin(policy: OriginPolicy, origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (isListedOrigin(policy, origin)) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    // `null` (a sandboxed frame, a file:// page) and anything malformed.
    return false;
  }
}

/**
 * Yoga's `cors` option: CORS headers for a listed origin only, never with credentials. The default
 * Yoga reflects any origin and allows credentials.
 */
export function corsOptions(policy: OriginPolicy) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !isListedOrigin(policy, origin)) return false as const;
    return {
      // Yoga's way to echo the request's origin with `Vary: Origin` (only listed ones get here).
      origin: ['*'],
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'x-graphql-yoga-csrf'],
      maxAge: 600,
    };
  };
}
