/**
 * A decider (Jérémie Chassaing's pattern, as Emmett's `Decider` type spells it): the whole of an
 * aggregate's rules as three pure values, so the same rules run under the command handler (with a
 * store) and under a given/when/then specification (without one).
 *
 * Two differences from Emmett's shape, both on purpose:
 * - `evolve` also receives the event's revision in its stream. A room's seq IS that revision, and
 *   the room's rules need it (a message's seq decides whether retention removed it); the handler
 *   knows the revision of every event it folds, decided or read back.
 * - `decide` names the id of every event it decides. Ids are a domain decision here: a message's
 *   id is derived from its client's id, which is what makes a resend idempotent.
 *
 * `decide` throws a ChatError (src/domain/errors.ts) to refuse a command, and returns an empty
 * list for a command that changes nothing (a resend, a second leave).
 */
export interface Decider<State, Command, Event> {
  initialState: () => State;
  evolve: (state: State, event: Event, revision: number) => State;
  decide: (state: State, command: Command) => Array<Event & { id: string }>;
}
