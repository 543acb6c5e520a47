import { noticeChannel } from '../broker/broker.js';
import type { ChatPorts } from './ports.js';

/** A notice for one user, published on their notice channel (the `notices` subscription). */
export interface NoticeView {
  kind: string;
  message: string;
  until: number | null;
}

/** Fire-and-forget: a notice only explains a refusal the caller already got as an error. */
export function notify(ports: Pick<ChatPorts, 'broker' | 'log'>, userId: string, notice: NoticeView): void {
  ports.broker.publish(noticeChannel(userId), notice).catch((error) => {
    ports.log.warn({ err: error }, 'notice publish failed');
  });
}

/** Tells a user refused by a rate limit (`doing`: what they did too fast) when they may go on. */
export function rateLimitedNotice(retryAfterMs: number, now = Date.now(), doing = 'sending'): NoticeView {
  return {
    kind: 'RATE_LIMITED',
    message: `You are ${doing} too fast; wait ${Math.ceil(retryAfterMs / 1000)} s.`,
    until: now + retryAfterMs,
  };
}
