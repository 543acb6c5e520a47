import type { UserRef } from '../../domain/events.js';
import { RateLimitedError, forbidden, notFound } from '../../domain/errors.js';
import { addressKey } from '../../limits/addressKey.js';
import type { RoomView } from '../../../projections/views.js';
import { limitWrite, refuse, type LimitPorts } from '../limitWrite.js';
import type { ChatPorts, GuessScope } from '../ports.js';
import { roomAfter } from '../readBack.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';
import * as valid from '../validate.js';

export type JoinRoom = (viewer: UserRef | null, roomId: string, password?: string | null, address?: string | null) => Promise<RoomView>;

export type JoinRoomPorts = RunCommandPorts & LimitPorts & Pick<ChatPorts, 'readModels' | 'passwords' | 'guesses' | 'limits'>;

const WRONG = 'wrong password for this private room';

/**
 * Joins a room; a private one only with its password. Joining twice is a no-op (and not counted
 * against the join limit).
 *
 * The password is checked BEFORE the join is queued for the room: a check is tens of ms of scrypt,
 * and inside the room's command queue every guess would hold up every send to the room. Wrong
 * guesses make the next ones wait longer, per (user, room), per room and per client address.
 * The command then carries "the password was accepted" for exactly the hash that was checked, and
 * the room's decider refuses a join to a private room without it.
 */
export function joinRoom(ports: JoinRoomPorts): JoinRoom {
  return async (viewer, roomId, password, address) => {
    const user = valid.viewer(viewer);
    valid.id(roomId, 'roomId');
    const state = await ports.commands.load(roomId);
    if (!state.room) throw notFound('room');
    const hash = state.room.passwordHash;
    let accepted = hash === null;
    if (!state.members.has(user.id)) {
      // No password at all is how a client learns that a room is private: refused, not counted.
      const given = typeof password === 'string' && password !== '' ? password : null;
      if (hash !== null && given === null) throw forbidden(WRONG);
      await limitWrite(ports, 'membership', user.id, user.id);
      if (hash !== null) {
        accepted = await checkPassword(ports, { roomId, user, password: given!, hash, address });
        if (!accepted) throw forbidden(WRONG);
      }
    }
    const outcome = await runCommand(ports, 'joinRoom', roomId, (current) => ({
      type: 'JoinRoom',
      user,
      passwordAccepted: accepted && current.room?.passwordHash === hash,
    }));
    return roomAfter(ports, roomId, outcome);
  };
}

async function checkPassword(
  ports: JoinRoomPorts,
  attempt: { roomId: string; user: UserRef; password: string; hash: string; address?: string | null },
): Promise<boolean> {
  const { roomId, user, password, hash, address } = attempt;
  const scopes: Array<[GuessScope, string]> = [
    ['userInRoom', `${roomId}:${user.id}`],
    ['room', roomId],
  ];
  if (address) scopes.push(['address', addressKey(address)]);
  const mustWait = async (holdIt: boolean) => {
    const waits = await Promise.all(scopes.map(([scope, key]) => ports.guesses[scope].wait(key)));
    const longest = Math.max(...waits);
    if (longest <= 0) return;
    // A refusal answered at once invites the next guess at once: 150 guessers retrying as soon as
    // answered keep the node busy answering them, and the room's members wait behind that. Held
    // (up to refusedGuessHoldMs, no CPU while held), each guesser goes at the pace of its delay.
    const held = holdIt ? await holdRefusal(ports, longest) : 0;
    refuse(ports, 'password', Math.max(1, longest - held), user.id);
  };
  // Checked on arrival (a refusal costs no scrypt), and again once a check slot is free: guesses
  // that queued together must not all slip through on the state from before any of them failed.
  await mustWait(true);
  const right = await ports.passwords.verify(password, hash, () => mustWait(false)).catch(async (error: unknown) => {
    // Too many checks at once: held like a delayed guess (the whole hold: the checks queued ahead
    // take longer than the "retry in 1 s" says), so a crowd of guessers cannot spin on refusals.
    if (error instanceof RateLimitedError) await holdRefusal(ports, Number.POSITIVE_INFINITY);
    throw error;
  });
  if (!right) await Promise.all(scopes.map(([scope, key]) => ports.guesses[scope].fail(key)));
  return right;
}

/** Waits refusalHold(…) before a refusal is answered; resolves with how long. */
async function holdRefusal(ports: Pick<ChatPorts, 'limits'>, retryAfterMs: number): Promise<number> {
  const held = refusalHold(retryAfterMs, ports.limits.refusedGuessHoldMs ?? 0);
  if (held > 0) await new Promise((resolve) => setTimeout(resolve, held));
  return held;
}

/**
 * How long a refused guess is held: up to the configured hold and never past its own wait, and
 * between 75 % and 100 % of that at random. Guessers that started together (and a crowd refused
 * together, when the check queue is full) would otherwise come back together, every hold, and
 * the node would answer them in one burst, holding up the room's members behind it.
 */
export function refusalHold(retryAfterMs: number, holdMs: number, random: () => number = Math.random): number {
  const most = Math.min(retryAfterMs, holdMs);
  return most > 0 ? Math.round(most * (0.75 + 0.25 * random())) : 0;
}
