/**
 * Load-client requests of the abuse rows (scenarios/abuseJoins.ts, scenarios/abuseFlood.ts):
 * an honest member's sequential sends, and attacks started and stopped around a measured step.
 * An attack runs in its own load-client process, so the attacker's CPU never delays the honest
 * client's receipts inside one event loop (on the machine it competes like any other process).
 */

/** One member sends `count` messages one after another, each at least `spacingMs` after the previous one started. */
export interface MemberSendsRequest {
  cmd: 'memberSends';
  url: string;
  token: string;
  roomId: string;
  count: number;
  spacingMs: number;
  /** Part of each clientMessageId, so rounds never collide. */
  tag: string;
}

export interface MemberSendsResult {
  /** Every acknowledged send's latency, in order (raw, so rounds can be pooled before quantiles). */
  latenciesMs: number[];
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

/**
 * `attackers` fresh sessions, each keeping one wrong-password `joinRoom` of `roomId` in flight
 * (retried as soon as it is answered, whatever the answer). With `spreadAddresses`, every attacker
 * sends its own X-Forwarded-For (10.<round>.x.y), for its session too: the per-address limits then
 * see 150 clients, not one (the node must trust the load client as a proxy, TRUST_PROXY).
 */
export interface PasswordGuessing {
  kind: 'passwordGuessing';
  url: string;
  roomId: string;
  attackers: number;
  spreadAddresses: boolean;
  /** Second octet of the spread addresses: a fresh set per round. */
  round: number;
}

/**
 * One abuser (the session of `token`, one address: no X-Forwarded-For) floods every write there is,
 * each kind with `inFlightPerWrite` requests in flight, each retried as soon as it is answered:
 * sendMessage, editMessage and deleteMessage (its own messages, bodies of `bodyChars`) and
 * joinRoom/leaveRoom and setTyping in `roomId`, createRoom over its one WebSocket; createSession
 * over HTTP.
 */
export interface WriteFlood {
  kind: 'writeFlood';
  url: string;
  token: string;
  roomId: string;
  inFlightPerWrite: number;
  bodyChars: number;
}

export interface StartAttackRequest {
  cmd: 'startAttack';
  attack: PasswordGuessing | WriteFlood;
  /** Bounds: the attack stops by itself after this long or this many requests, whichever comes first. */
  maxMs: number;
  maxRequests: number;
}

export interface StartAttackResult {
  /** Concurrent request loops running. */
  loops: number;
  setupMs: number;
}

export interface StopAttackRequest {
  cmd: 'stopAttack';
}

export interface AttackResult {
  requests: number;
  /** From the first request to the stop (or the bound). */
  elapsedMs: number;
  perSecond: number;
  /** `write: outcome` → count; outcome is `ok`, the error code, or RATE_LIMITED with what was limited. */
  outcomes: Record<string, number>;
  /** What ended it: the stop request, `maxMs` or `maxRequests`. */
  endedBy: 'stop' | 'time bound' | 'request bound';
}

export type AbuseRequest = MemberSendsRequest | StartAttackRequest | StopAttackRequest;
