import pg from 'pg';

export interface PostgresListener {
  close(): Promise<void>;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * LISTENs on `channel` on a connection of its own and calls `wake` for every notification, and
 * again whenever it (re)connects, since notifications sent while it was away are gone. This is a
 * wake-up only: the subscriptions it wakes read the table, and poll it anyway, so a notification
 * that never arrives delays an event by at most one poll and loses nothing.
 */
/** The listening connection's application_name (pg_stat_activity shows it; a test drops it by this name). */
export function listenerName(channel: string): string {
  return `roomlog-listen ${channel}`.slice(0, 63);
}

export function listenForAppends(options: {
  connectionString: string;
  channel: string;
  wake: () => void;
  onError?: (error: unknown) => void;
}): PostgresListener {
  let closed = false;
  let client: pg.Client | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = RECONNECT_MIN_MS;

  const connect = async () => {
    const next = new pg.Client({ connectionString: options.connectionString, application_name: listenerName(options.channel) });
    client = next;
    // Without a listener, a connection dropped by the server is an uncaught 'error' that ends the process.
    next.on('error', (error) => {
      options.onError?.(error);
      reconnect(next);
    });
    next.on('end', () => reconnect(next));
    next.on('notification', () => options.wake());
    try {
      await next.connect();
      await next.query(`LISTEN "${options.channel}"`);
      backoff = RECONNECT_MIN_MS;
      options.wake();
    } catch (error) {
      if (!closed) options.onError?.(error);
      reconnect(next);
    }
  };

  const reconnect = (failed: pg.Client) => {
    if (closed || client !== failed) return; // already replaced, or closing
    client = null;
    failed.end().catch(() => undefined);
    retryTimer = setTimeout(() => void connect(), backoff);
    backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const last = client;
      client = null;
      await last?.end().catch(() => undefined);
    },
  };
}
