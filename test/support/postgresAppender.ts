// A separate writer process for the PostgreSQL tests: appends `count` single-event appends to one
// stream and prints each acknowledged revision on its own line, only after `append` resolved. It
// prints `ready` once the store answers and starts on the first line read from stdin.
// Usage: node --import tsx test/support/postgresAppender.ts <url> <stream> <count> <idPrefix>
import { once } from 'node:events';
import { createPostgresEventStore } from '../../src/eventStore/postgresEventStore.js';

const [url, stream, count, idPrefix] = process.argv.slice(2);
if (!url || !stream || !count || !idPrefix) {
  console.error('usage: postgresAppender <url> <stream> <count> <idPrefix>');
  process.exit(2);
}

const store = createPostgresEventStore({ url });
await store.headPosition(); // the schema exists before the test starts the clock
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();

for (let i = 1; i <= Number(count); i++) {
  const { revision } = await store.append(stream, [{ id: `${idPrefix}-${i}`, type: 'MessagePosted', data: { i } }], { expectedRevision: 'any' });
  // stdout to a pipe is synchronous on Linux: a printed line has left this process before the next append.
  process.stdout.write(`${revision}\n`);
}
await store.close();
