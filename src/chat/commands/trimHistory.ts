import type { TrimOptions } from '../../retention/roomTrimmer.js';
import { runCommand, type RunCommandPorts } from '../runCommand.js';

export type TrimHistory = (roomId: string, beforeSeq: number, options?: TrimOptions) => Promise<number>;

/**
 * Retention's decision for a room, recorded in its log; resolves with where its messages now
 * start. A system command: no viewer, never called from the API. It does not wait for the read
 * models: retention goes on to the store at once, and nobody reads its write back.
 */
export function trimHistory(ports: RunCommandPorts): TrimHistory {
  return async (roomId, beforeSeq, options = {}) => {
    const { carrySnapshot, keepMessages, keepLast } = options;
    const outcome = await runCommand(ports, 'trimHistory', roomId, () => ({ type: 'TrimHistory', beforeSeq, keepMessages, carrySnapshot, keepLast }), {
      waitForReadModels: false,
    });
    return outcome.state.trimmedBefore;
  };
}
