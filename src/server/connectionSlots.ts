import { badInput, type ChatError } from '../domain/errors.js';

export type SlotKind = 'subscription' | 'operation';

/**
 * The operations of one WebSocket connection, counted by kind: live subscriptions against
 * MAX_SUBSCRIPTIONS_PER_CONNECTION, and queries and mutations still running (or still sending
 * their answer) against MAX_OPERATIONS_PER_CONNECTION.
 *
 * graphql-ws registers a subscription's iterator only once `onSubscribe` has resolved, so a cap
 * that counted live iterators let subscribes sent back to back all pass while each was still being
 * set up (169 accepted against a cap of 100). Here a slot is taken synchronously when the
 * operation arrives. It is given back once graphql-ws no longer lists the operation (`isOpen`):
 * as soon as the client's `complete` is read, or the operation ended, or failed.
 *
 * An id also stays taken while its operation is being set up, even if the client completed it
 * meanwhile: graphql-ws would let a new subscribe under that id replace the old one in its
 * registry once both were set up, and lose track of the old one, which would then run unseen
 * (and past the cap) until the node stops.
 */
export class ConnectionSlots {
  private readonly held = new Map<string, SlotKind>();
  private readonly settingUp = new Set<string>();
  private readonly counts: Record<SlotKind, number> = { subscription: 0, operation: 0 };

  constructor(private readonly caps: Readonly<Record<SlotKind, number>>) {}

  /**
   * Takes a slot for operation `id`, or returns why not (the operation's error). `isOpen` says
   * whether graphql-ws still lists an operation: the ones it no longer lists give their slot back.
   */
  reserve(id: string, kind: SlotKind, isOpen: (id: string) => boolean): ChatError | null {
    if (this.settingUp.has(id)) return badInput(`operation id ${JSON.stringify(id.slice(0, 64))} is still in use: use a new id`);
    // graphql-ws accepted this id again, so whatever ran under it before is over.
    this.release(id);
    for (const held of [...this.held.keys()]) if (!this.settingUp.has(held) && !isOpen(held)) this.release(held);
    if (this.counts[kind] >= this.caps[kind]) {
      return badInput(
        kind === 'subscription'
          ? `at most ${this.caps.subscription} subscriptions at once on one connection`
          : `at most ${this.caps.operation} queries and mutations at once on one connection: wait for answers before sending more`,
      );
    }
    this.held.set(id, kind);
    this.settingUp.add(id);
    this.counts[kind]++;
    return null;
  }

  /** The operation is set up (graphql-ws lists it from now on until it is over). */
  settled(id: string): void {
    this.settingUp.delete(id);
  }

  /** Gives the slot back at once (an operation refused while being set up). */
  release(id: string): void {
    this.settingUp.delete(id);
    const kind = this.held.get(id);
    if (kind === undefined) return;
    this.held.delete(id);
    this.counts[kind]--;
  }

  count(kind: SlotKind): number {
    return this.counts[kind];
  }
}
