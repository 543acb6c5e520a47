/**
 * `npm test`'s pretest: makes sure the system tools the suites need are here (scripts/toolPlan.ts
 * says which and what to do), installing them with apt-get on Debian as root, or stopping at once
 * with the exact command to run. A fresh machine then needs only `npm ci && npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { POSTGRES, setUpMachine, TOOLS, type Machine } from './toolPlan.js';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function run(argv: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Set once this pretest has installed the postgresql package. */
let installedPostgres = false;

async function lookAtMachine(): Promise<Machine> {
  const commands = new Set(TOOLS.flatMap((tool) => tool.commands));
  const found = new Set([...commands].filter(onPath));
  const isListening = await listening(POSTGRES.host, POSTGRES.port);
  let query: Machine['postgres']['query'] = null;
  if (isListening && found.has('psql')) {
    const answer = run(['psql', '-h', POSTGRES.host, '-p', String(POSTGRES.port), '-U', POSTGRES.user, '-d', POSTGRES.database, '-w', '-tAc', 'select 1']);
    if (answer.status === 0) query = 'ok';
    else if (/database "[^"]+" does not exist/.test(answer.output)) query = 'no-database';
    else if (/password|authentication failed/i.test(answer.output)) query = 'password-required';
    else query = 'failed';
  }
  const clusters = found.has('pg_ctlcluster')
    ? run(['pg_lsclusters', '-h'])
        .output.split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((parts) => parts.length >= 2 && /^\d+$/.test(parts[0]!))
        .map(([version, name]) => ({ version: version!, name: name! }))
    : [];
  const cluster = clusters[0];
  const hba = cluster ? `/etc/postgresql/${cluster.version}/${cluster.name}/pg_hba.conf` : null;
  return {
    debian: existsSync('/etc/debian_version'),
    root: process.getuid?.() === 0,
    onPath: found,
    postgresUrlGiven: Boolean(process.env.POSTGRES_TEST_URL),
    postgres: { listening: isListening, query, clusters, hbaFile: hba && existsSync(hba) ? hba : null, installedHere: installedPostgres },
  };
}

const ready = await setUpMachine({
  look: lookAtMachine,
  run: async (step) => {
    const result = run(step.argv, step.env);
    if (result.status === 0 && step.argv[0] === 'apt-get' && step.argv.includes('postgresql')) installedPostgres = true;
    return { ok: result.status === 0, output: result.output };
  },
  say: (line) => console.error(`pretest: ${line}`),
  pause: () => new Promise((resolve) => setTimeout(resolve, 1_000)),
});
if (!ready) process.exit(1);
