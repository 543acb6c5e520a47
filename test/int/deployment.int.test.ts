import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BALANCER_CONFIG_KEYS } from '../../balancer/config.js';
import { CONFIG_KEYS } from '../../src/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `docker-compose config`: Debian's docker-compose validates and resolves a file without an engine. */
function resolvedCompose(): { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string> }> } {
  let output: string;
  try {
    output = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: root,
      env: { ...process.env, JWT_SECRET: 'a-secret-of-at-least-16-chars' },
      encoding: 'utf8',
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'docker-compose is not installed: apt-get install -y docker-compose (.ci/run does)' : String((error as { stderr?: string }).stderr ?? error));
  }
  return parse(output);
}

describe('deployment files', () => {
  it('docker-compose.yml is valid, and every variable it sets is one the code reads', () => {
    const { services } = resolvedCompose();
    expect(Object.keys(services).sort()).toEqual(['balancer', 'eventstore', 'node1', 'node2', 'node3', 'redis']);
    const unknown: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (service.image !== 'roomlog:local') continue; // third-party images read their own variables
      const known = service.command?.some((part) => part.includes('balancer')) ? BALANCER_CONFIG_KEYS : CONFIG_KEYS;
      for (const key of Object.keys(service.environment ?? {})) if (!known.includes(key)) unknown.push(`${name}: ${key}`);
    }
    expect(unknown).toEqual([]);
  });

  it('the nodes share what a cluster must share, and each has its own name', () => {
    const { services } = resolvedCompose();
    const nodes = ['node1', 'node2', 'node3'].map((name) => services[name]!.environment!);
    for (const key of ['EVENT_STORE', 'REDIS_URL', 'JWT_SECRET']) expect(new Set(nodes.map((env) => env[key])).size).toBe(1);
    expect(new Set(nodes.map((env) => env.NODE_ID)).size).toBe(3);
    expect(nodes[0]!.EVENT_STORE).toMatch(/^esdb:\/\//);
  });

  it('without JWT_SECRET, compose stops with a hint that works when pasted into a shell', () => {
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete env.JWT_SECRET;
    const refused = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, env, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    // Debian's docker-compose 1.x first quotes the whole environment, the raw `${…}` included (a quote
    // follows it there): the hint is the occurrence that ends its line.
    const hint = /export JWT_SECRET=[^'\n]*$/m.exec(refused.stderr)?.[0];
    expect(hint, refused.stderr).toBeDefined();
    // What a user does with it: paste it, then use the variable.
    const pasted = spawnSync('bash', ['-c', `${hint}\nprintf %s "$JWT_SECRET"`], { encoding: 'utf8' });
    expect(pasted.stderr).toBe('');
    expect(pasted.stdout).toMatch(/^[0-9a-f]{64}$/);
  });

  it('no obsolete `version:`, and no volume for the nodes (only EventStoreDB keeps data)', () => {
    const file = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as Record<string, unknown>;
    expect(file).not.toHaveProperty('version');
    const { services } = resolvedCompose() as { services: Record<string, { volumes?: unknown[] }> };
    const withVolumes = Object.entries(services).filter(([, service]) => service.volumes?.length).map(([name]) => name);
    expect(withVolumes).toEqual(['eventstore']);
    // The image itself declares none either: a VOLUME there gives each node container an anonymous one.
    expect(readFileSync(`${root}Dockerfile`, 'utf8')).not.toMatch(/^VOLUME /m);
  });

  it('the Dockerfile sets only variables the node reads, and does not run as root', () => {
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    const envLines = dockerfile.split('\n').filter((line) => line.startsWith('ENV '));
    const keys = envLines.flatMap((line) => [...line.slice(4).matchAll(/(\w+)=/g)].map((m) => m[1]!));
    expect(keys.filter((key) => key !== 'NODE_ENV' && !CONFIG_KEYS.includes(key))).toEqual([]);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  });
});
