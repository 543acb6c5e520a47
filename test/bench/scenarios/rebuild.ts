/**
 * 7. Rebuild: every read model from a SQLite log of N events (1,000,000 in a full run), by the
 * CLI's `rebuild` in a process of its own, so its peak memory is the rebuild's alone.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSqliteEventStore } from '../../../src/eventStore/sqliteEventStore.js';
import { seedLog } from '../../support/seedLog.js';
import { fmt, verdict, type Row } from '../table.js';
import type { Scenario } from './context.js';

const TARGET_RATE = 150_000;
const run = promisify(execFile);

export const rebuildScenario: Scenario = async (ctx) => {
  const total = ctx.cfg.replayEvents >= 200_000 ? 1_000_000 : 100_000;
  const dataDir = ctx.tmpDir('rebuild');
  const seedStarted = performance.now();
  const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  try {
    await seedLog(store, { events: total, rooms: 200, batch: 500 });
  } finally {
    await store.close();
  }
  ctx.log(`rebuild: seeded ${fmt(total)} events in ${fmt(performance.now() - seedStarted)} ms`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'rebuild', '--data-dir', dataDir], {
    cwd: ctx.cfg.serverRoot,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('rebuilt '));
  const match = line?.match(/from (\d+) events in ([\d.]+) s: (\d+) events\/s, peak RSS (\d+) MB/);
  if (!match) {
    ctx.notes.push(`rebuild: the CLI printed no result line: ${stdout.slice(-300)}`);
    return [];
  }
  const [, events, seconds, rate, rss] = match.map(Number) as [number, number, number, number, number];
  ctx.notes.push(`rebuild: ${fmt(events)} events (200 rooms: joins, leaves, posts, edits, deletes) into the in-memory read models in ${seconds} s.`);
  const scenario = `7. rebuild ${fmt(events)} events from SQLite`;
  return [
    { scenario, metric: 'events/s', roomlog: fmt(rate), bare: '', ratio: '', target: `≥ ${fmt(TARGET_RATE)}`, result: verdict(rate >= TARGET_RATE) },
    { scenario, metric: 'peak RSS MB (rebuild process)', roomlog: fmt(rss), bare: '', ratio: '', target: '', result: '' },
  ];
};
