import { RateLimitedError } from '../domain/errors.js';
import type { WriteKind } from '../limits/writeLimits.js';
import { notify, rateLimitedNotice } from './notices.js';
import type { ChatPorts } from './ports.js';

export type LimitPorts = Pick<ChatPorts, 'limiter' | 'metrics' | 'broker' | 'log'>;

/** Per kind: what the refusal says was done too often, and what the user was doing too fast. */
const WORDING: Record<WriteKind, { many: string; doing: string }> = {
  send: { many: 'messages', doing: 'sending' },
  edit: { many: 'edits', doing: 'editing' },
  delete: { many: 'deletes', doing: 'deleting' },
  membership: { many: 'joins and leaves', doing: 'joining and leaving rooms' },
  rename: { many: 'renames', doing: 'changing your name' },
  createRoom: { many: 'new rooms', doing: 'creating rooms' },
  typing: { many: 'typing signals', doing: 'sending typing signals' },
  sessionPerAddress: { many: 'new sessions from this address', doing: 'creating sessions' },
  roomPerAddress: { many: 'new rooms from this address', doing: 'creating rooms' },
};

/**
 * Counts one write of `kind` against `key`'s budget. Over it: RATE_LIMITED with retryAfterMs, and
 * (when there is a user to tell) a Notice on their `notices` saying when they may go on.
 */
export async function limitWrite(ports: LimitPorts, kind: WriteKind, key: string, userId?: string): Promise<void> {
  const decision = await ports.limiter.consume(kind, key);
  if (decision.allowed) return;
  refuse(ports, kind, decision.retryAfterMs, userId);
}

/** Refuses with RATE_LIMITED (and a notice for `userId`): the one shape every limited write has. */
export function refuse(ports: Omit<LimitPorts, 'limiter'>, kind: WriteKind | 'password', retryAfterMs: number, userId?: string): never {
  const { many, doing } = kind === 'password' ? { many: 'wrong passwords', doing: 'trying passwords' } : WORDING[kind];
  ports.metrics.rateLimited.inc({ kind });
  if (userId) notify(ports, userId, rateLimitedNotice(retryAfterMs, Date.now(), doing));
  throw new RateLimitedError(retryAfterMs, `too many ${many}; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
}
