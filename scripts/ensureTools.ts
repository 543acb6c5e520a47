/**
 * `npm test`'s pretest: makes sure the system tools the suites need are here (scripts/toolPlan.ts
 * says which and what to do), installing them with apt-get on Debian as root, or stopping at once
 * with the exact command to run. A fresh machine then needs only `npm ci && npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { planSetup, POSTGRES, TOOLS, type Machine } from './toolPlan.js';

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
    postgres: { listening: isListening, query, clusters, hbaFile: hba && existsSync(hba) ? hba : null },
  };
}

async function main(): Promise<void> {
  // Each round does one thing and looks again. The longest path, a fresh Debian machine: install,
  // start PostgreSQL, trust 127.0.0.1, create the database, ready: five rounds.
  for (let round = 0; round < 8; round++) {
    const plan = planSetup(await lookAtMachine());
    if (plan.kind === 'ready') return;
    if (plan.kind === 'stop') {
      console.error(`pretest: ${plan.message}`);
      process.exit(1);
    }
    for (const step of plan.steps) {
      console.error(`pretest: ${step.why}: ${step.argv.join(' ')}`);
      const result = run(step.argv, step.env);
      if (result.status !== 0) {
        console.error(`pretest: \`${step.argv.join(' ')}\` failed (exit ${result.status}):\n${result.output.trim().split('\n').slice(-15).join('\n')}`);
        process.exit(1);
      }
    }
    // A server just started may take a moment before it accepts connections.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  console.error('pretest: the machine still lacks what the tests need after setting it up; see the lines above');
  process.exit(1);
}

await main();
