// A separate writer process for the SQLite tests: appends `count` single-event appends to one
// stream and prints each acknowledged revision on its own line, only after `append` resolved.
// It prints `ready` once the store is open and starts on the first line read from stdin, so a
// test can start several writers at the same moment.
// An optional pause between appends lets writers interleave: without it, a tight loop re-takes the
// write lock before a rival's busy handler wakes up, and the writers simply run one after another.
// Usage: node --import tsx test/support/sqliteAppender.ts <file> <stream> <count> <idPrefix> [pauseMs]
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';

const [file, stream, count, idPrefix, pauseMs = '0'] = process.argv.slice(2);
if (!file || !stream || !count || !idPrefix) {
  console.error('usage: sqliteAppender <file> <stream> <count> <idPrefix> [pauseMs]');
  process.exit(2);
}

const store = createSqliteEventStore({ file });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();

for (let i = 1; i <= Number(count); i++) {
  const { revision } = await store.append(
    stream,
    [{ id: `${idPrefix}-${i}`, type: 'MessagePosted', data: { i, writer: idPrefix } }],
    { expectedRevision: 'any' },
  );
  // stdout to a pipe is synchronous on Linux, so a printed line has left this process before the
  // next append starts; whatever the parent read was acknowledged.
  process.stdout.write(`${revision}\n`);
  if (pauseMs !== '0') await delay(Number(pauseMs));
}
await store.close();
