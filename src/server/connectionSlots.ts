import { badInput, type ChatError } from '../domain/errors.js';

export type SlotKind = 'subscription' | 'operation';

/**
 * The operations of one WebSocket connection, counted by kind: live subscriptions against
 * MAX_SUBSCRIPTIONS_PER_CONNECTION, and queries and mutations still running (or still sending
 * their answer) against MAX_OPERATIONS_PER_CONNECTION.
 *
 * graphql-ws registers a subscription only once `onSubscribe` has resolved, so a cap that counted
 * graphql-ws's own registry let subscribes sent back to back all pass while each was still being
 * set up (169 accepted against a cap of 100). Here a slot is taken synchronously, when the
 * operation arrives, and given back when it completes, fails or the connection closes.
 */
export class ConnectionSlots {
  private readonly held = new Map<string, SlotKind>();
  private readonly counts: Record<SlotKind, number> = { subscription: 0, operation: 0 };

  constructor(private readonly caps: Readonly<Record<SlotKind, number>>) {}

  /** Takes a slot for operation `id`; returns why not (the operation's error) when it cannot. */
  reserve(id: string, kind: SlotKind): ChatError | null {
    // An id whose previous operation is still winding down: graphql-ws would let the new one
    // replace the old in its registry and lose track of the old, which then runs on unseen.
    if (this.held.has(id)) return badInput(`operation id ${JSON.stringify(id.slice(0, 64))} is still in use: use a new id`);
    if (this.counts[kind] >= this.caps[kind]) {
      return badInput(
        kind === 'subscription'
          ? `at most ${this.caps.subscription} subscriptions at once on one connection`
          : `at most ${this.caps.operation} queries and mutations at once on one connection: wait for answers before sending more`,
      );
    }
    this.held.set(id, kind);
    this.counts[kind]++;
    return null;
  }

  release(id: string): void {
    const kind = this.held.get(id);
    if (kind === undefined) return;
    this.held.delete(id);
    this.counts[kind]--;
  }

  count(kind: SlotKind): number {
    return this.counts[kind];
  }
}
