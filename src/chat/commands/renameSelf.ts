import type { Session } from '../../auth/sessions.js';
import type { UserRef } from '../../domain/events.js';
import { createGate } from '../../limits/gate.js';
import { limitWrite, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts } from '../ports.js';
import { readAtLeast, type FreshReadPorts } from '../queries/freshReads.js';
import { MAX_MY_ROOMS } from '../queries/myRooms.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

/** Rooms written into at once by one rename. */
const RENAMES_AT_ONCE = 8;

export type RenameSelf = (viewer: UserRef | null, name: string) => Promise<Session>;

export type RenameSelfPorts = RunCommandPorts & LimitPorts & FreshReadPorts & Pick<ChatPorts, 'readModels' | 'sessions' | 'limits'>;

/**
 * The viewer takes a new display name and stays who they are: the same user id (so their
 * messages stay theirs to edit and delete, and their private rooms stay joined), a MemberRenamed
 * event in every room they are a member of (each room's history tells from which seq on they go by
 * the new name; earlier events keep the old one), and a fresh session token carrying the new name
 * for the client to use from now on. The old token stays valid until it expires (tokens are not
 * revocable) and still carries the old name.
 *
 * Counted against a budget of its own (RATE_LIMIT_RENAMES), once whatever the number of rooms: it
 * writes one event into each (at most MAX_MY_ROOMS).
 * The rooms come from the read models as of the log's head (read-your-writes: a join acknowledged
 * before is seen); a room joined while the rename runs may keep the old name, as its MemberJoined
 * says, until the next rename.
 */
export function renameSelf(ports: RenameSelfPorts): RenameSelf {
  return async (viewer, name) => {
    const user = valid.viewer(viewer);
    const clean = valid.displayName(name, 'name', ports.limits.maxNameChars);
    const renamed: UserRef = { id: user.id, name: clean };
    if (clean !== user.name) {
      await limitWrite(ports, 'rename', user.id, user.id);
      const rooms = await readAtLeast(ports, await ports.store.headPosition(), 'your room list', (at) => ports.readModels.memberRooms(user.id, MAX_MY_ROOMS, at));
      // A few rooms at a time (each is its own stream), and one wait for the read models at the
      // end rather than one per room: read-your-writes holds for the whole rename at once.
      const gate = createGate({ concurrency: RENAMES_AT_ONCE, maxQueued: Number.POSITIVE_INFINITY });
      const outcomes = await Promise.all(
        rooms.map((room) => gate.run(() => runCommand(ports, 'renameSelf', room.id, () => ({ type: 'RenameMember', user: renamed }), { waitForReadModels: false }))),
      );
      const last = Math.max(0, ...outcomes.map((outcome) => outcome.events.at(-1)?.position ?? 0));
      if (last > 0) await ports.progress.waitFor(last, ports.consistency.readWaitMs).catch((error) => ports.log.warn({ err: error }, 'read models lag'));
    }
    return ports.sessions.issue(renamed);
  };
}
