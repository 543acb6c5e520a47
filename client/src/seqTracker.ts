/**
 * The position of a room's follower in the room's log. The server promises seq 1, 2, 3, … with no
 * gaps and no repeats on one subscription, except where retention cut the log: a resume from an
 * older seq starts at the oldest one kept. Across reconnects a resume may repeat what was already
 * seen, and a fault anywhere could skip. This decides, per event, what to do about it.
 *
 * - `deliver`: the next seq;
 * - `duplicate`: already delivered, drop it;
 * - `trimmed`: seqs were skipped, but all of them lie below the room's retention cut, so they
 *   will never come: expected, deliver it (the room's HistoryTrimmed event says why);
 * - `gap`: seqs were skipped that the log may still have.
 */
export type SeqVerdict = 'deliver' | 'duplicate' | 'trimmed' | 'gap';

export class SeqTracker {
  /** Retention no longer keeps any seq below this one (0: nothing known to be cut). */
  private cut = 0;

  constructor(private last: number | undefined) {}

  /** The seq of the last event delivered (or the starting point), undefined before the first. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  /** Retention removed the seqs below `beforeSeq` (a HistoryTrimmed event, or the room's `oldestSeq`). */
  get trimmedBefore(): number {
    return this.cut;
  }

  /** Sets the starting point when none was given (the room's head when following live). */
  startAt(seq: number): void {
    if (this.last === undefined) this.last = seq;
  }

  /** Records a retention cut: seqs below `beforeSeq` will not be delivered any more. */
  trimmed(beforeSeq: number): void {
    this.cut = Math.max(this.cut, beforeSeq);
  }

  check(seq: number): SeqVerdict {
    if (this.last === undefined) return 'deliver';
    if (seq <= this.last) return 'duplicate';
    if (seq === this.last + 1) return 'deliver';
    // Every skipped seq (last + 1 … seq - 1) is below the cut when `seq` itself is at most the cut.
    return seq <= this.cut ? 'trimmed' : 'gap';
  }

  /** Records `seq` as delivered. */
  advance(seq: number): void {
    this.last = seq;
  }
}
