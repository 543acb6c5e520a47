import { RateLimitedError } from '../../domain/errors.js';

/**
 * How much list reading runs at once. A query holds memory in proportion to its cost (the objects
 * its answer can hold, listCost.ts) while it runs, so the node runs at most `perNode` of cost at
 * once, whoever sends it, and one user (or one address without a session) at most `perUser`, running
 * or waiting, so one client cannot take every turn. A query that fits in what is left of the node's
 * budget runs at once (a page of 50 messages never waits behind somebody's long lists); one that
 * does not waits its turn in a short queue, in order; past the user's budget, or with the queue
 * full, it is refused at once with RATE_LIMITED instead of piling up. Twelve worst-case queries at once therefore cost the node
 * what `perNode` allows, not twelve times a worst case.
 */
export interface BudgetLimits {
  /** MAX_QUERY_COST_AT_ONCE: cost running at once on the node. */
  perNode: number;
  /** MAX_QUERY_COST_AT_ONCE_PER_USER: cost of one user's queries running or waiting at once. */
  perUser: number;
  /** Queries waiting for the node's budget; past it, RATE_LIMITED. */
  maxQueued: number;
}

/** What a refused client is told to wait: a heavy query takes well under a second. */
const RETRY_AFTER_MS = 1_000;

export class QueryBudget {
  private running = 0;
  private readonly waiting: Array<{ weight: number; start: () => void }> = [];
  private readonly perKey = new Map<string, number>();

  constructor(private readonly limits: BudgetLimits) {}

  /**
   * Runs `task` (a query costing `cost`) when the budget allows. The checks and the reservation
   * happen before the first `await`, so queries that arrive back to back cannot all pass together.
   */
  async run<T>(key: string, cost: number, task: () => Promise<T> | T): Promise<T> {
    const { perUser, perNode, maxQueued } = this.limits;
    // A query dearer than a whole budget (MAX_QUERY_COST above it) still runs, alone.
    const weight = Math.min(cost, perNode, perUser);
    const mine = this.perKey.get(key) ?? 0;
    if (mine + weight > perUser) {
      throw new RateLimitedError(RETRY_AFTER_MS, `too many long lists asked for at once by one user (over ${perUser} objects); retry in 1 s, or ask for fewer items`);
    }
    const now = this.running + weight <= perNode;
    if (!now && this.waiting.length >= maxQueued) {
      throw new RateLimitedError(RETRY_AFTER_MS, 'this node is busy answering long lists; retry in 1 s, or ask for fewer items');
    }
    this.perKey.set(key, mine + weight);
    try {
      if (now) this.running += weight;
      // In order: `admit` starts a waiting query once the budget has room for it, already counted.
      else await new Promise<void>((start) => this.waiting.push({ weight, start }));
      try {
        return await task();
      } finally {
        this.running -= weight;
        this.admit();
      }
    } finally {
      const left = (this.perKey.get(key) ?? weight) - weight;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    }
  }

  /** Cost running, queries waiting, keys holding budget (for tests). */
  get load(): { running: number; queued: number; users: number } {
    return { running: this.running, queued: this.waiting.length, users: this.perKey.size };
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.running + this.waiting[0]!.weight <= this.limits.perNode) {
      const next = this.waiting.shift()!;
      this.running += next.weight;
      next.start();
    }
  }
}
