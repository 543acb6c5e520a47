import { roomChannel } from '../broker/broker.js';
import type { BuildRoomCommand, ChatPorts, RoomCommandOutcome } from './ports.js';

/**
 * What running a command takes; the log and the read wait bound are here too because every command
 * but a send answers with a read back (readBack.ts) that needs them.
 */
export type RunCommandPorts = Pick<ChatPorts, 'commands' | 'metrics' | 'broker' | 'progress' | 'consistency' | 'store' | 'log'>;

/**
 * The step every room command shares: decide and append, count it, publish each appended event,
 * and (unless told not to) wait until the read models have it, so a client that reads right
 * after writing sees its write.
 */
export async function runCommand(
  ports: RunCommandPorts,
  command: string,
  roomId: string,
  build: BuildRoomCommand,
  options: { waitForReadModels?: boolean } = {},
): Promise<RoomCommandOutcome> {
  const { waitForReadModels = true } = options;
  const stop = ports.metrics.commandSeconds.startTimer({ command });
  const outcome = await ports.commands.execute(roomId, build);
  stop();
  for (const event of outcome.events) {
    ports.metrics.eventsAppended.inc({ type: event.type });
    // Publishing is fire-and-forget: the event is durable already, and a lost publish is
    // repaired by every subscriber's head-seq check. A send never fails because of the broker.
    ports.broker.publish(roomChannel(roomId), event).catch((error) => {
      ports.metrics.publishFailures.inc();
      ports.log.warn({ err: error, roomId, seq: event.seq }, 'publish failed; subscribers will repair from the log');
    });
  }
  const last = outcome.events.at(-1);
  // A lagging projector delays the answer, never fails it: the write is durable either way.
  if (last && waitForReadModels) {
    await ports.progress.waitFor(last.position, ports.consistency.readWaitMs).catch((error) => ports.log.warn({ err: error }, 'read models lag'));
  }
  return outcome;
}
