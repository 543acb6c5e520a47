import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import type { Connection } from './connection.js';
import type { ChatClientError } from './errors.js';
import { live } from './live.js';
import { followRoom, type RoomFeed, type RoomFeedOptions } from './roomFeed.js';
import type { RoomEvent } from './types.js';

/**
 * The subscriptions one client runs (room feeds, presence, notices) over its connection, each
 * tracked so that closing the client stops every one still running.
 */
export interface Feeds {
  readonly connection: Connection;
  /** Registers how to stop a feed; what it returns stops it once and forgets it. */
  track(stop: () => void): () => void;
  stopAll(): void;
}

export function createFeeds(connection: Connection): Feeds {
  const stoppers = new Set<() => void>();
  return {
    connection,
    track(stop) {
      const once = () => {
        stoppers.delete(once);
        stop();
      };
      stoppers.add(once);
      return once;
    },
    stopAll() {
      for (const stop of [...stoppers]) stop();
    },
  };
}

/** A room's events to a listener; a final error ends the feed and goes to `onError` (or the console). */
export function followRoomEvents(
  feeds: Feeds,
  roomId: string,
  onEvent: (event: RoomEvent) => void,
  opts: RoomFeedOptions & { onError?: (error: ChatClientError) => void } = {},
): RoomFeed {
  let untrack = () => {};
  const feed = followRoom(feeds.connection, roomId, { afterSeq: opts.afterSeq }, {
    onEvent: (event) => callSafely(onEvent, event),
    onError: (error) => {
      untrack();
      (opts.onError ?? logError)(error);
    },
  });
  untrack = feeds.track(() => feed.unsubscribe());
  return {
    unsubscribe: untrack,
    get lastSeq() {
      return feed.lastSeq;
    },
  };
}

/** A live subscription's values (`pick` of each result) to a listener, until stopped or a final error. */
export function followLive<D, V extends AnyVariables, T>(
  feeds: Feeds,
  document: TypedDocumentNode<D, V>,
  variables: V,
  pick: (data: D) => T,
  listener: (value: T) => void,
  onError?: (error: ChatClientError) => void,
): () => void {
  let untrack = () => {};
  const subscription = live(feeds.connection, {
    query: document,
    variables: () => variables,
    onData: (data) => callSafely(listener, pick(data)),
    onError: (error) => {
      untrack();
      (onError ?? logError)(error);
    },
  });
  untrack = feeds.track(() => subscription.stop());
  return untrack;
}

/** A listener's exception must not break the feed that called it; it surfaces as an uncaught error. */
function callSafely<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    reportError(error);
  }
}

function logError(error: ChatClientError): void {
  console.error(`roomlog client: ${error.code}: ${error.message}`);
}

function reportError(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}
