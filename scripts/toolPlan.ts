/**
 * What `npm test` needs from the machine beyond `npm ci`, and what to do when it is missing: the
 * decision only (pure, unit-tested in test/unit/toolPlan.unit.test.ts); ensureTools.ts looks at
 * the machine, runs the steps and looks again.
 */

/** A system tool some test suite needs, and the Debian package that provides it. */
export interface Tool {
  name: string;
  /** Present when every one of these is on PATH. */
  commands: string[];
  aptPackage: string;
  why: string;
}

export const TOOLS: Tool[] = [
  { name: 'redis-server', commands: ['redis-server'], aptPackage: 'redis-server', why: 'the int, e2e and cluster tests start their own redis-server children' },
  { name: 'chromium', commands: ['chromium'], aptPackage: 'chromium', why: 'the browser tests drive it; playwright-core downloads no browser' },
  { name: 'docker-compose', commands: ['docker-compose'], aptPackage: 'docker-compose', why: 'the deployment test validates docker-compose.yml (no Docker engine needed)' },
  { name: 'PostgreSQL', commands: ['psql', 'pg_ctlcluster'], aptPackage: 'postgresql', why: 'the PostgreSQL event store suites use a server on 127.0.0.1:5432' },
];

/** Where the tests expect PostgreSQL (test/support, README "Tests"): trust auth, database `test`. */
export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

/** What ensureTools.ts found. */
export interface Machine {
  /** /etc/debian_version exists. */
  debian: boolean;
  root: boolean;
  /** Commands found on PATH (of every command any TOOLS entry names). */
  onPath: Set<string>;
  /** POSTGRES_TEST_URL is set: the tests use that server, and its set-up is the user's. */
  postgresUrlGiven?: boolean;
  postgres: {
    /** This pretest installed the postgresql package (so its authentication is ours to set). */
    installedHere?: boolean;
    /** Something accepts connections on 127.0.0.1:5432. */
    listening: boolean;
    /** `psql … -d test -c 'select 1'` as the tests connect; null when not tried (not listening, or no psql). */
    query: 'ok' | 'no-database' | 'password-required' | 'failed' | null;
    /** Installed clusters (`pg_lsclusters`): version and name, e.g. 15 main. */
    clusters: Array<{ version: string; name: string }>;
    /** The cluster's pg_hba.conf, when known (root can read it). */
    hbaFile: string | null;
  };
}

/** A command to run, as argv, and why (printed before it runs). */
export interface Step {
  argv: string[];
  why: string;
  env?: Record<string, string>;
}

export type Plan =
  | { kind: 'ready' }
  /** Run these, then look again. */
  | { kind: 'steps'; steps: Step[] }
  /** Cannot do it from here: stop `npm test` at once with this message (it names the exact command). */
  | { kind: 'stop'; message: string };

/**
 * The tools missing. PostgreSQL's only when nothing answers where the tests connect and no
 * POSTGRES_TEST_URL names another server: one that answers (in a container, on another system)
 * needs no local tools.
 */
export function missingTools(machine: Pick<Machine, 'onPath' | 'postgresUrlGiven'> & { postgres?: Pick<Machine['postgres'], 'listening'> }): Tool[] {
  const postgresNeeded = !machine.postgresUrlGiven && !machine.postgres?.listening;
  return TOOLS.filter((tool) => (tool.name !== 'PostgreSQL' || postgresNeeded) && tool.commands.some((command) => !machine.onPath.has(command)));
}

const shell = (argv: string[]) => argv.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replaceAll("'", "'\\''")}'`)).join(' ');

/**
 * The next thing to do: install what is missing (one apt-get for all of it), then get PostgreSQL
 * running and reachable as the tests connect. Installs only on Debian as root; anywhere else it
 * stops at once naming the command (with sudo when not root), rather than failing suites later.
 */
export function planSetup(machine: Machine): Plan {
  const missing = missingTools(machine);
  if (missing.length > 0) {
    const packages = missing.map((tool) => tool.aptPackage);
    const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
    const list = missing.map((tool) => `${tool.name} (${tool.why})`).join('; ');
    if (!machine.debian) {
      return { kind: 'stop', message: `npm test needs ${list}. Install them with your system's package manager (on Debian: ${shell(['sudo', ...install])}), then run npm test again.` };
    }
    if (!machine.root) return { kind: 'stop', message: `npm test needs ${list}. Run: ${shell(['sudo', 'apt-get', 'update'])} && ${shell(['sudo', ...install])}` };
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    return {
      kind: 'steps',
      steps: [
        { argv: ['apt-get', 'update', '-qq'], why: `missing: ${missing.map((tool) => tool.name).join(', ')}`, env },
        { argv: ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages], why: list, env },
      ],
    };
  }
  return machine.postgresUrlGiven ? { kind: 'ready' } : planPostgres(machine);
}

function planPostgres(machine: Machine): Plan {
  const { postgres } = machine;
  const sudo = (argv: string[]) => shell(machine.root ? argv : ['sudo', ...argv]);
  const where = `${POSTGRES.host}:${POSTGRES.port}`;
  if (!postgres.listening) {
    const cluster = postgres.clusters[0];
    const start = cluster ? ['pg_ctlcluster', cluster.version, cluster.name, 'start'] : ['service', 'postgresql', 'start'];
    if (!machine.root) return { kind: 'stop', message: `PostgreSQL is installed but nothing answers on ${where}. Run: ${sudo(start)}` };
    return { kind: 'steps', steps: [{ argv: start, why: `PostgreSQL is installed but nothing answers on ${where}` }] };
  }
  switch (postgres.query) {
    case 'ok':
    case null:
      return { kind: 'ready' };
    case 'no-database':
      return {
        kind: 'steps',
        steps: [{ argv: ['psql', '-h', POSTGRES.host, '-U', POSTGRES.user, '-d', 'postgres', '-c', `CREATE DATABASE ${POSTGRES.database}`], why: `the tests use the database "${POSTGRES.database}"` }],
      };
    case 'password-required': {
      // A fresh Debian install asks local TCP clients for a password; the tests connect without one.
      const hba = postgres.hbaFile ?? '/etc/postgresql/<version>/main/pg_hba.conf';
      const line = `host all all ${POSTGRES.host}/32 trust`;
      const cluster = postgres.clusters[0];
      const reload = cluster ? ['pg_ctlcluster', cluster.version, cluster.name, 'reload'] : ['service', 'postgresql', 'reload'];
      const edit = ['sed', '-i', `1i ${line}`, hba];
      // Only a server this pretest installed: trusting local connections to someone's own server
      // is theirs to decide (or they point the tests elsewhere with POSTGRES_TEST_URL).
      if (!machine.root || postgres.hbaFile === null || !postgres.installedHere) {
        return {
          kind: 'stop',
          message: `PostgreSQL on ${where} asks for a password; the tests connect as "${POSTGRES.user}" without one (a test machine's own server). Run: ${sudo(edit)} && ${sudo(reload)} (or set POSTGRES_TEST_URL to a server and database the tests may use)`,
        };
      }
      return {
        kind: 'steps',
        steps: [
          { argv: edit, why: `trust local TCP connections from ${POSTGRES.host} (the tests connect without a password)` },
          { argv: reload, why: 'reload pg_hba.conf' },
        ],
      };
    }
    case 'failed':
      return { kind: 'stop', message: `PostgreSQL on ${where} refuses the tests' connection (psql -h ${POSTGRES.host} -U ${POSTGRES.user} -d ${POSTGRES.database}); see its log in /var/log/postgresql/` };
  }
}

/** The most rounds of look-then-act: the longest path, a fresh Debian machine (install, start PostgreSQL, trust 127.0.0.1, create the database, ready), takes five. */
export const MAX_ROUNDS = 8;

/**
 * Looks at the machine, does the next thing the plan says, and looks again, until it is ready
 * (true) or the plan says stop or a step fails (false, after saying why through `say`).
 */
export async function setUpMachine(effects: {
  look: () => Promise<Machine>;
  run: (step: Step) => Promise<{ ok: boolean; output: string }>;
  say: (line: string) => void;
  /** Between rounds (a server just started may take a moment to accept connections). */
  pause?: () => Promise<void>;
}): Promise<boolean> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const plan = planSetup(await effects.look());
    if (plan.kind === 'ready') return true;
    if (plan.kind === 'stop') {
      effects.say(plan.message);
      return false;
    }
    for (const step of plan.steps) {
      effects.say(`${step.why}: ${step.argv.join(' ')}`);
      const result = await effects.run(step);
      if (!result.ok) {
        effects.say(`\`${step.argv.join(' ')}\` failed:\n${result.output.trim().split('\n').slice(-15).join('\n')}`);
        return false;
      }
    }
    await effects.pause?.();
  }
  effects.say('the machine still lacks what the tests need after setting it up; see the lines above');
  return false;
}
