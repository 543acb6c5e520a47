import { roomStream } from '../../domain/events.js';
import { unavailable } from '../../domain/errors.js';
import { ReadModelsBehindError, ReadModelsUnavailableError, type ReadAt } from '../../readModels/readModelStore.js';
import type { ChatPorts } from '../ports.js';

/*
 * Read-your-writes on every node (README, "Consistency"). The read models are applied from the
 * log asynchronously (by one lease holder in a cluster), so a read of them first takes the log
 * position it must reflect — the newest event of the room it reads, or the log's head — as this
 * node sees the log at the start of the read. Anything acknowledged before the read started is at
 * or below that position, whichever node acknowledged it. The read then waits (bounded) until the
 * read models include that position and asks the store to answer only from views that do: the
 * check is made on the checkpoint read atomically with the answer, so read models that were
 * emptied or are being rebuilt can never pass for the truth. The waiting is the node's shared
 * progress waiter (one per node, fed by the projector's announcements), not a poll per request.
 */

export type FreshReadPorts = Pick<ChatPorts, 'store' | 'progress' | 'consistency'>;

/** How long a client is told to wait before asking again when the read models are behind. */
const RETRY_AFTER_MS = 1_000;

/** Position of the room's newest event (0 for a room with none): what a read of the room must reflect. */
export async function roomPosition(ports: Pick<ChatPorts, 'store'>, roomId: string): Promise<number> {
  const [newest] = await ports.store.readStream(roomStream(roomId), { direction: 'backwards', limit: 1 });
  return newest?.position ?? 0;
}

/**
 * Runs `read` against read models that include the log up to `position`: waits for them (at most
 * `consistency.readWaitMs` in all), and retries when the store finds itself behind (it was emptied
 * after this node last heard of it: the node's idea of the progress is wound back first). Past the
 * bound it fails with UNAVAILABLE, naming `what` is being rebuilt, rather than answer short.
 */
export async function readAtLeast<T>(ports: FreshReadPorts, position: number, what: string, read: (at: ReadAt) => Promise<T>): Promise<T> {
  const deadline = Date.now() + ports.consistency.readWaitMs;
  for (;;) {
    try {
      await ports.progress.waitFor(position, Math.max(1, deadline - Date.now()));
    } catch {
      throw behind(what);
    }
    try {
      return await read({ atLeast: position });
    } catch (error) {
      if (error instanceof ReadModelsUnavailableError) throw unreachable(what);
      if (!(error instanceof ReadModelsBehindError)) throw error;
      ports.progress.rewind(error.checkpoint);
      if (Date.now() >= deadline) throw behind(what);
    }
  }
}

const unreachable = (what: string) => unavailable(`${what} cannot be read right now (its store does not answer); retry shortly`, RETRY_AFTER_MS);

const behind = (what: string) => unavailable(`${what} is being rebuilt from the log and is not complete yet; retry shortly`, RETRY_AFTER_MS);
