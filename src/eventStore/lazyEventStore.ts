import type { AllSubscription, EventStore, SubscribeToAllOptions } from './eventStore.js';

type Forwarded = (...args: unknown[]) => Promise<unknown>;

/**
 * An event store whose adapter is imported at its first use, so a node configured for another
 * store never loads it: the EventStoreDB client with its gRPC and protobuf stack weighs tens of
 * megabytes in every node that runs on SQLite. `load` is called once; a store that was never
 * used closes without loading.
 *
 * `capabilities` names the adapter's methods beyond the port (retentionCapabilities.ts), so the
 * type guards there see them on this object as they would on the adapter.
 */
export function lazyEventStore<S extends EventStore>(load: () => Promise<S>, capabilities: ReadonlyArray<Exclude<keyof S, keyof EventStore> & string>): S {
  let loaded: Promise<S> | null = null;
  const store = () => (loaded ??= load());
  const forward =
    (name: string): Forwarded =>
    async (...args) =>
      ((await store())[name as keyof S] as Forwarded)(...args);
  const lazy: Record<string, unknown> = {
    append: forward('append'),
    readStream: forward('readStream'),
    streamRevision: forward('streamRevision'),
    readAll: forward('readAll'),
    headPosition: forward('headPosition'),
    ping: forward('ping'),
    subscribeToAll: (options: SubscribeToAllOptions) => subscribeLater(store(), options),
    async close() {
      if (loaded) await (await loaded).close();
    },
  };
  for (const name of capabilities) lazy[name] = forward(name);
  return lazy as S;
}

/** subscribeToAll answers at once; the subscription starts once the adapter is loaded (unless closed first). */
function subscribeLater(store: Promise<EventStore>, options: SubscribeToAllOptions): AllSubscription {
  let closed = false;
  const subscription = store.then((loaded) => (closed ? null : loaded.subscribeToAll(options)));
  subscription.catch((error: unknown) => options.onError?.(error));
  return {
    async close() {
      closed = true;
      await (await subscription.catch(() => null))?.close();
    },
  };
}
