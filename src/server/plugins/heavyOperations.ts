import { RateLimitedError } from '../../domain/errors.js';

/**
 * Heavy operations (long lists: see listCost.ts) hold megabytes while they run, so how many run at
 * once is bounded twice: per user (or per address without a session), so one client cannot take
 * every turn, and per node, so many clients together cannot take the memory. A heavy operation
 * past the node's bound waits its turn in a short queue; past the user's bound, or with the queue
 * full, it is refused at once with RATE_LIMITED instead of piling up.
 */
export interface HeavyLimits {
  /** Heavy operations of one user running or waiting at once. */
  perUser: number;
  /** Heavy operations running at once on the node. */
  perNode: number;
  /** Heavy operations waiting for one of the node's turns. */
  maxQueued: number;
}

/** What a refused client is told to wait: a heavy query takes well under a second. */
const RETRY_AFTER_MS = 1_000;

export class HeavyOperations {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly perKey = new Map<string, number>();

  constructor(private readonly limits: HeavyLimits) {}

  /**
   * Runs `task` when its turn comes. The check and the reservation happen before the first
   * `await`, so operations that arrive back to back cannot all pass the check together.
   */
  async run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const { perUser, perNode, maxQueued } = this.limits;
    const mine = this.perKey.get(key) ?? 0;
    if (mine >= perUser) {
      throw new RateLimitedError(RETRY_AFTER_MS, `at most ${perUser} heavy queries (long lists) at once per user; retry in 1 s, or ask for fewer items`);
    }
    if (this.running >= perNode && this.waiting.length >= maxQueued) {
      throw new RateLimitedError(RETRY_AFTER_MS, 'this node is busy with heavy queries (long lists); retry in 1 s, or ask for fewer items');
    }
    this.perKey.set(key, mine + 1);
    try {
      if (this.running < perNode) this.running++;
      // The turn is handed over by `leave` without being freed in between, so nobody arriving
      // meanwhile can overtake the queue.
      else await new Promise<void>((resolve) => this.waiting.push(resolve));
      try {
        return await task();
      } finally {
        this.leave();
      }
    } finally {
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    }
  }

  /** Running and waiting right now (for tests). */
  get load(): { running: number; queued: number; users: number } {
    return { running: this.running, queued: this.waiting.length, users: this.perKey.size };
  }

  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
