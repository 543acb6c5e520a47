/**
 * The position of a room's follower in the room's log. The server promises seq 1, 2, 3, … with no
 * gaps and no repeats on one subscription; across reconnects a resume may repeat what was already
 * seen, and a fault anywhere could skip. This decides, per event, what to do about it.
 */
export type SeqVerdict = 'deliver' | 'duplicate' | 'gap';

export class SeqTracker {
  constructor(private last: number | undefined) {}

  /** The seq of the last event delivered (or the starting point), undefined before the first. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  /** Sets the starting point when none was given (the room's head when following live). */
  startAt(seq: number): void {
    if (this.last === undefined) this.last = seq;
  }

  check(seq: number): SeqVerdict {
    if (this.last === undefined) return 'deliver';
    if (seq <= this.last) return 'duplicate';
    return seq === this.last + 1 ? 'deliver' : 'gap';
  }

  /** Records `seq` as delivered. */
  advance(seq: number): void {
    this.last = seq;
  }
}
