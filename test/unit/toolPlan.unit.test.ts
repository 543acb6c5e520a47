import { describe, expect, it } from 'vitest';
import { planSetup, setUpMachine, TOOLS, type Machine, type Step } from '../../scripts/toolPlan.js';

/** A Debian test machine as root with every tool and a PostgreSQL that answers; each test breaks one thing. */
function machine(change: { debian?: boolean; root?: boolean; without?: string[]; postgres?: Partial<Machine['postgres']> } = {}): Machine {
  const all = TOOLS.flatMap((tool) => tool.commands);
  return {
    debian: change.debian ?? true,
    root: change.root ?? true,
    onPath: new Set(all.filter((command) => !change.without?.includes(command))),
    postgres: {
      listening: true,
      query: 'ok',
      clusters: [{ version: '15', name: 'main' }],
      hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
      ...change.postgres,
    },
  };
}

describe('what npm test sets up before it runs (scripts/toolPlan.ts)', () => {
  it('nothing when every tool is there and PostgreSQL answers as the tests connect', () => {
    expect(planSetup(machine())).toEqual({ kind: 'ready' });
  });

  it('installs every missing tool with one apt-get (after an update), on Debian as root', () => {
    const plan = planSetup(machine({ without: ['chromium', 'docker-compose', 'psql'], postgres: { listening: false, query: null } }));
    expect(plan.kind).toBe('steps');
    const steps = plan.kind === 'steps' ? plan.steps : [];
    expect(steps.map((step) => step.argv)).toEqual([
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium', 'docker-compose', 'postgresql'],
    ]);
    expect(steps.every((step) => step.env?.DEBIAN_FRONTEND === 'noninteractive')).toBe(true);
    expect(steps[1]!.why).toContain('browser tests');
  });

  it('redis-server missing alone: just that package', () => {
    const plan = planSetup(machine({ without: ['redis-server'] }));
    expect(plan.kind === 'steps' && plan.steps[1]!.argv.at(-1)).toBe('redis-server');
  });

  it('not root: stops at once naming the sudo command, installs nothing', () => {
    const plan = planSetup(machine({ root: false, without: ['chromium', 'redis-server'] }));
    expect(plan).toEqual({
      kind: 'stop',
      message: expect.stringContaining('Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server chromium'),
    });
  });

  it('not Debian: stops, naming the tools and the Debian command', () => {
    const plan = planSetup(machine({ debian: false, without: ['docker-compose'] }));
    expect(plan.kind).toBe('stop');
    expect(plan.kind === 'stop' && plan.message).toMatch(/needs docker-compose \(the deployment test.*sudo apt-get install -y --no-install-recommends docker-compose/);
  });

  it('PostgreSQL installed but not running: starts its cluster (root) or names the command', () => {
    const stopped = { listening: false, query: null };
    expect(planSetup(machine({ postgres: stopped }))).toEqual({ kind: 'steps', steps: [{ argv: ['pg_ctlcluster', '15', 'main', 'start'], why: expect.any(String) }] });
    expect(planSetup(machine({ postgres: { ...stopped, clusters: [] } }))).toMatchObject({ kind: 'steps', steps: [{ argv: ['service', 'postgresql', 'start'] }] });
    expect(planSetup(machine({ root: false, postgres: stopped }))).toEqual({ kind: 'stop', message: expect.stringMatching(/nothing answers on 127\.0\.0\.1:5432\. Run: sudo pg_ctlcluster 15 main start$/) });
  });

  it('install comes before starting: a missing psql is installed first, whatever the port says', () => {
    const plan = planSetup(machine({ without: ['psql', 'pg_ctlcluster'], postgres: { listening: false, query: null, clusters: [] } }));
    expect(plan.kind === 'steps' && plan.steps[1]!.argv.at(-1)).toBe('postgresql');
  });

  it('no database "test": creates it; a password asked: trusts 127.0.0.1 and reloads (root), or names both commands', () => {
    expect(planSetup(machine({ postgres: { query: 'no-database' } }))).toMatchObject({
      kind: 'steps',
      steps: [{ argv: ['psql', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-c', 'CREATE DATABASE test'] }],
    });
    expect(planSetup(machine({ postgres: { query: 'password-required', installedHere: true } }))).toMatchObject({
      kind: 'steps',
      steps: [{ argv: ['sed', '-i', '1i host all all 127.0.0.1/32 trust', '/etc/postgresql/15/main/pg_hba.conf'] }, { argv: ['pg_ctlcluster', '15', 'main', 'reload'] }],
    });
    const asUser = planSetup(machine({ root: false, postgres: { query: 'password-required' } }));
    expect(asUser.kind === 'stop' && asUser.message).toMatch(
      /Run: sudo sed -i '1i host all all 127\.0\.0\.1\/32 trust' \/etc\/postgresql\/15\/main\/pg_hba\.conf && sudo pg_ctlcluster 15 main reload \(or set POSTGRES_TEST_URL/,
    );
  });

  it('a server it did not install keeps its authentication: stops with the commands instead of editing pg_hba.conf', () => {
    const plan = planSetup(machine({ postgres: { query: 'password-required', installedHere: false } }));
    expect(plan).toMatchObject({ kind: 'stop', message: expect.stringContaining("sed -i '1i host all all 127.0.0.1/32 trust'") });
    expect(plan.kind === 'stop' && plan.message).toContain('POSTGRES_TEST_URL');
  });

  it('a PostgreSQL that answers needs no local tools (a container, another system); POSTGRES_TEST_URL leaves PostgreSQL to the user', () => {
    expect(planSetup(machine({ without: ['psql', 'pg_ctlcluster'], postgres: { query: null, clusters: [] } }))).toEqual({ kind: 'ready' });
    expect(planSetup({ ...machine({ without: ['psql', 'pg_ctlcluster'], postgres: { listening: false, query: null, clusters: [] } }), postgresUrlGiven: true })).toEqual({ kind: 'ready' });
  });

  it('a connection refused for another reason stops with where to look', () => {
    expect(planSetup(machine({ postgres: { query: 'failed' } }))).toMatchObject({ kind: 'stop', message: expect.stringContaining('/var/log/postgresql/') });
  });
});

/**
 * A fresh Debian machine as the steps change it, without touching the real one: apt-get puts the
 * packages' commands on PATH and creates a cluster that is not started (no init system in a
 * container), PostgreSQL asks local TCP clients for a password and has no database `test`.
 */
function freshDebian(options: { root: boolean }) {
  const state = { onPath: new Set<string>(), clusters: [] as Array<{ version: string; name: string }>, running: false, trusted: false, database: false, ran: [] as string[] };
  const look = async (): Promise<Machine> => ({
    debian: true,
    root: options.root,
    onPath: new Set(state.onPath),
    postgres: {
      listening: state.running,
      query: !state.running ? null : !state.trusted ? 'password-required' : !state.database ? 'no-database' : 'ok',
      clusters: state.clusters,
      hbaFile: state.clusters.length ? '/etc/postgresql/15/main/pg_hba.conf' : null,
      installedHere: state.clusters.length > 0,
    },
  });
  const run = async (step: Step) => {
    const line = step.argv.join(' ');
    state.ran.push(line);
    if (step.argv[0] === 'apt-get' && step.argv[1] === 'install') {
      for (const tool of TOOLS) if (step.argv.includes(tool.aptPackage)) tool.commands.forEach((c) => state.onPath.add(c));
      if (step.argv.includes('postgresql')) state.clusters = [{ version: '15', name: 'main' }];
    } else if (line === 'pg_ctlcluster 15 main start') state.running = true;
    else if (step.argv[0] === 'sed') state.trusted = true;
    else if (line.endsWith('CREATE DATABASE test')) state.database = true;
    return { ok: true, output: '' };
  };
  return { state, look, run };
}

describe('setting a machine up, round by round (simulated)', () => {
  it('a fresh Debian machine as root ends ready: install, start, trust, create, in that order', async () => {
    const machine = freshDebian({ root: true });
    const said: string[] = [];
    expect(await setUpMachine({ look: machine.look, run: machine.run, say: (line) => said.push(line) })).toBe(true);
    expect(machine.state.ran).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends redis-server chromium docker-compose postgresql',
      'pg_ctlcluster 15 main start',
      "sed -i 1i host all all 127.0.0.1/32 trust /etc/postgresql/15/main/pg_hba.conf",
      'pg_ctlcluster 15 main reload',
      'psql -h 127.0.0.1 -U postgres -d postgres -c CREATE DATABASE test',
    ]);
    expect(said).toHaveLength(6);
  });

  it('not root: runs nothing, says the command once', async () => {
    const machine = freshDebian({ root: false });
    const said: string[] = [];
    expect(await setUpMachine({ look: machine.look, run: machine.run, say: (line) => said.push(line) })).toBe(false);
    expect(machine.state.ran).toEqual([]);
    expect(said).toEqual([expect.stringContaining('Run: sudo apt-get update && sudo apt-get install')]);
  });

  it('a step that fails stops at once with its output', async () => {
    const machine = freshDebian({ root: true });
    const said: string[] = [];
    const failing = async (step: Step) => (step.argv[1] === 'install' ? { ok: false, output: 'E: Unable to locate package chromium' } : machine.run(step));
    expect(await setUpMachine({ look: machine.look, run: failing, say: (line) => said.push(line) })).toBe(false);
    expect(said.at(-1)).toMatch(/^`apt-get install .*` failed:\nE: Unable to locate package chromium$/);
  });

  it('a machine that never gets ready gives up after a bounded number of rounds', async () => {
    const machine = freshDebian({ root: true });
    const stuck = async (step: Step) => ({ ok: true, output: String(step.argv.length) }); // runs, changes nothing
    const said: string[] = [];
    expect(await setUpMachine({ look: machine.look, run: stuck, say: (line) => said.push(line) })).toBe(false);
    expect(said.at(-1)).toContain('still lacks');
  });
});
