import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { badInput } from '../../domain/errors.js';
import { addressKey } from '../../limits/addressKey.js';
import type { GraphQLContext } from '../../../schema/builder.js';
import { toGraphQLError } from '../../../schema/errors.js';

export interface SseStreamLimits {
  /** MAX_SSE_STREAMS_PER_USER: open subscription streams over HTTP (SSE) of one session's user. */
  perUser: number;
  /** MAX_SSE_STREAMS_PER_ADDRESS: the same per client address, sessions or not. */
  perAddress: number;
}

/**
 * Subscriptions over HTTP (SSE) each hold a response, a subscription and the socket's buffers
 * for as long as the client keeps them open, and each is its own request: nothing like a
 * WebSocket's per-connection cap bounds how many one client opens. Here they are counted per user
 * and per address; past either bound the subscription is answered with BAD_USER_INPUT and no
 * stream. (WebSocket operations are bounded per connection: src/server/connectionSlots.ts.)
 *
 * A stream's slot is taken when its subscription starts and given back when it ends, however it
 * ends: the client closes it, the subscription completes or fails.
 */
export function useSseStreams(limits: SseStreamLimits): Plugin<Record<string, unknown>> {
  const byUser = new Counter();
  const byAddress = new Counter();
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue as Partial<GraphQLContext> & { request?: unknown };
      // Only Yoga's HTTP context has the request; WebSocket operations build their own.
      if (!context.request) return;
      const user = context.viewer ? context.viewer.id : null;
      const address = context.clientAddress ? addressKey(context.clientAddress) : null;
      // The check and the reservation run together when the subscription starts, with no `await`
      // between them, so streams opened at the same moment cannot all pass the check.
      setSubscribeFn(async (subscribeArgs) => {
        if (user !== null && byUser.count(user) >= limits.perUser) {
          return refusal(`at most ${limits.perUser} subscriptions over SSE at once per user: close one, or use one WebSocket for many`);
        }
        if (address !== null && byAddress.count(address) >= limits.perAddress) {
          return refusal(`at most ${limits.perAddress} subscriptions over SSE at once per client address: close one, or use one WebSocket for many`);
        }
        if (user !== null) byUser.add(user);
        if (address !== null) byAddress.add(address);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          if (user !== null) byUser.remove(user);
          if (address !== null) byAddress.remove(address);
        };
        try {
          const result = await subscribeFn(subscribeArgs);
          if (!isAsyncIterable(result)) {
            release();
            return result;
          }
          return onEnd(result, release);
        } catch (error) {
          release();
          throw error;
        }
      });
    },
  };
}

function refusal(message: string): ExecutionResult {
  return { errors: [toGraphQLError(badInput(message))!] };
}

class Counter {
  private readonly counts = new Map<string, number>();
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.count(key) + 1);
  }
  remove(key: string): void {
    const left = this.count(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}

/** `source`, calling `done` once when it ends: finished, failed, or returned by its consumer. */
function onEnd<T>(source: AsyncIterable<T>, done: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await iterator.next();
        if (result.done) done();
        return result;
      } catch (error) {
        done();
        throw error;
      }
    },
    async return(value?: unknown) {
      done();
      return (await iterator.return?.(value)) ?? { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      done();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}
