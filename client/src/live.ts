import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { onEnd, pipe, subscribe, type Subscription } from 'wonka';
import { backoffDelay, defaultBackoff } from './backoff.js';
import { ChatClientError, fromCombinedError, isFinal } from './errors.js';
import type { Connection } from './connection.js';

export interface LiveOptions<D, V extends AnyVariables> {
  query: TypedDocumentNode<D, V>;
  /** Read before every (re)subscription, so a resume can carry the latest position. */
  variables: () => V;
  /** Each result's data. */
  onData: (data: D) => void;
  /** A final error (the subscription was refused for good); nothing is retried after it. */
  onError: (error: ChatClientError) => void;
}

export interface Live {
  stop(): void;
}

/**
 * A subscription that outlives its connection: after a lost socket it waits for the shared
 * reconnect and subscribes again (with fresh variables); after a server-side error that a retry
 * may fix, or an unexpected completion, it backs off and subscribes again. Only final errors
 * (a refused session, a forbidden or unknown room) end it.
 */
export function live<D, V extends AnyVariables>(connection: Connection, options: LiveOptions<D, V>): Live {
  let stopped = false;
  let cancelCurrent: () => void = () => {};
  let serverRetries = 0;
  const release = connection.hold();

  const stop = () => {
    if (stopped) return;
    stopped = true;
    cancelCurrent();
    release();
  };

  const retry = (error: ChatClientError | undefined) => {
    if (stopped) return;
    if (error && isFinal(error)) {
      stop();
      options.onError(error);
      return;
    }
    const wait =
      error?.code === 'NETWORK'
        ? connection.waitToRetry()
        : new Promise<void>((resolve) => setTimeout(resolve, backoffDelay(serverRetries++, defaultBackoff)));
    wait.then(start, () => stop());
  };

  const start = () => {
    if (stopped) return;
    let done = false;
    let subscription: Subscription | undefined;
    const cancel = () => {
      done = true;
      subscription?.unsubscribe();
    };
    const finish = (error?: ChatClientError) => {
      if (done) return;
      cancel();
      retry(error);
    };
    cancelCurrent = cancel;
    subscription = pipe(
      connection.urql.subscription(options.query, options.variables()),
      onEnd(() => finish()),
      subscribe((result) => {
        if (done || stopped) return;
        if (result.error) return finish(fromCombinedError(result.error));
        if (!result.data) return;
        serverRetries = 0;
        options.onData(result.data);
      }),
    );
    if (done) subscription.unsubscribe();
  };

  start();
  return { stop };
}
