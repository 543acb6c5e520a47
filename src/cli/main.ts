import { text } from 'node:stream/consumers';
import { Command, InvalidArgumentError, Option } from 'commander';
import { exitQuietlyOnClosedPipe } from './closedPipe.js';
import { storeFrom } from './context.js';
import { exportRooms, importEvents } from './exportImport.js';
import { rebuild } from './rebuild.js';
import { replay } from './replay.js';
import { formatRoomLine, listRooms } from './rooms.js';
import { setSecret, showSecret } from './secret.js';

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
    .option('--event-store <store>', 'sqlite, memory, a postgres:// or an esdb:// URL (default: $EVENT_STORE or sqlite)')
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
    .command('rooms')
    .description('list every room in the log, private ones included (id, members, head seq, name), oldest first')
    .option('--json', 'one JSON object per line'),
).action(async (options: { json?: boolean; eventStore?: string; dataDir?: string }) => {
  const store = storeFrom(options);
  try {
    for (const room of await listRooms(store)) console.log(options.json ? JSON.stringify(room) : formatRoomLine(room));
  } finally {
    await store.close();
  }
});

storeFlags(
  program
    .command('export')
    .description("write rooms' streams as JSON lines (seqs, event ids and times kept); the JWT secret is not in it: see `secret`")
    .option('--room <id...>', 'the room(s)')
    .option('--all', 'every room in the log, private ones included')
    .option('--out <file>', 'write here instead of stdout'),
).action(async (options) => {
  const { rooms, events } = await exportRooms(options);
  console.error(`exported ${rooms} room${rooms === 1 ? '' : 's'}, ${events} events`);
});

storeFlags(
  program
    .command('import')
    .description('append exported JSON lines to this store, at the same seqs with the same ids')
    .option('--file <file>', 'read this instead of stdin'),
).action(async (options) => {
  const { appended, skipped } = await importEvents(options);
  console.error(`imported ${appended} events${skipped ? `, ${skipped} already there` : ''}`);
});

const secret = program
  .command('secret')
  .description("the key sessions are signed with, kept in DATA_DIR (not in the log): carry it when moving the data, or sessions end");
secret
  .command('show')
  .description("print DATA_DIR's secret (keep it private: it signs every session)")
  .option('--data-dir <dir>', 'default: $DATA_DIR or ./data')
  .action((options: { dataDir?: string }) => void process.stdout.write(showSecret(options)));
secret
  .command('set')
  .description("write DATA_DIR's secret, from the argument or stdin (what `secret show` printed)")
  .argument('[secret]', 'the secret; default: read stdin')
  .option('--data-dir <dir>', 'default: $DATA_DIR or ./data')
  .option('--replace', 'overwrite a different secret already there (ends every session signed with it)')
  .action(async (value: string | undefined, options: { dataDir?: string; replace?: boolean }) => {
    const outcome = setSecret({ ...options, text: value ?? (await text(process.stdin)) });
    console.error(`secret ${outcome}`);
  });

exitQuietlyOnClosedPipe();
program.parseAsync().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
