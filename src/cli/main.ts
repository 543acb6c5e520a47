import { Command, InvalidArgumentError, Option } from 'commander';
import { exportRooms, importEvents } from './exportImport.js';
import { rebuild } from './rebuild.js';
import { replay } from './replay.js';

/**
 * `npm run cli -- <command>`: operate on the event log of a deployment. Every command reads the
 * same environment as a node (EVENT_STORE, DATA_DIR, REDIS_URL, REDIS_PREFIX); flags override it.
 */
const wholeNumber = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
};
const storeFlags = (command: Command) =>
  command
    .option('--event-store <store>', 'sqlite, memory, or an esdb:// URL (default: $EVENT_STORE or sqlite)')
    .option('--data-dir <dir>', 'where the SQLite event store lives (default: $DATA_DIR or ./data)');

const program = new Command('roomlog').description('Operate on a roomlog event log.').showHelpAfterError();

storeFlags(
  program
    .command('replay')
    .description("print a room's events from the log, in seq order")
    .requiredOption('--room <id>', 'the room')
    .option('--from <seq>', 'start after this seq', wholeNumber, 0)
    .addOption(new Option('--format <format>', 'output').choices(['json', 'table']).default('table')),
).action((options) => replay(options));

storeFlags(
  program
    .command('rebuild')
    .description('rebuild every read model from the log (Redis with REDIS_URL, else in memory), with progress and events/s')
    .option('--redis-url <url>', 'rebuild the shared read models in this Redis (default: $REDIS_URL)')
    .option('--prefix <prefix>', 'Redis key prefix to rebuild into (default: $REDIS_PREFIX or roomlog:)'),
).action(async (options) => {
  const report = await rebuild(options);
  console.log(
    `rebuilt ${report.target} from ${report.events} events in ${report.seconds.toFixed(2)} s: ${report.eventsPerSecond} events/s, peak RSS ${report.peakRssMb} MB`,
  );
});

storeFlags(
  program
    .command('export')
    .description("write rooms' streams as JSON lines (seqs, event ids and times kept)")
    .requiredOption('--room <id...>', 'the room(s)')
    .option('--out <file>', 'write here instead of stdout'),
).action((options) => exportRooms(options));

storeFlags(
  program
    .command('import')
    .description('append exported JSON lines to this store, at the same seqs with the same ids')
    .option('--file <file>', 'read this instead of stdin'),
).action(async (options) => {
  const { appended, skipped } = await importEvents(options);
  console.error(`imported ${appended} events${skipped ? `, ${skipped} already there` : ''}`);
});

program.parseAsync().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
