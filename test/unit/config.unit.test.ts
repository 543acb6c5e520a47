import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('given no environment: the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 4000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      EVENT_STORE: 'sqlite',
      RATE_LIMIT_MESSAGES: 20,
      RATE_LIMIT_WINDOW_MS: 10_000,
      MAX_BODY_CHARS: 4_000,
      LOG_LEVEL: 'info',
    });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('without NODE_ID: a random one per call', () => {
    const a = loadConfig({}).NODE_ID;
    expect(a).toMatch(/^node-[0-9a-f]{6}$/);
    expect(loadConfig({}).NODE_ID).not.toBe(a);
  });

  it('reads and converts the variables it knows, ignores the rest', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      EVENT_STORE: 'memory',
      NODE_ID: 'node-a.1',
      RATE_LIMIT_MESSAGES: '0',
      RATE_LIMIT_WINDOW_MS: '500',
      REDIS_URL: 'redis://localhost:6379',
      JWT_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'silent',
      PATH: '/usr/bin',
    });
    expect(config).toMatchObject({
      PORT: 0,
      HOST: '0.0.0.0',
      EVENT_STORE: 'memory',
      NODE_ID: 'node-a.1',
      RATE_LIMIT_MESSAGES: 0,
      RATE_LIMIT_WINDOW_MS: 500,
      REDIS_URL: 'redis://localhost:6379',
      LOG_LEVEL: 'silent',
    });
    expect(config).not.toHaveProperty('PATH');
  });

  it('trims whitespace around numbers', () => {
    expect(loadConfig({ PORT: ' 8080 ' }).PORT).toBe(8080);
  });

  it('empty strings count as unset', () => {
    const config = loadConfig({ PORT: '', EVENT_STORE: '', REDIS_URL: '', JWT_SECRET: '', NODE_ID: '', HOST: '' });
    expect(config).toMatchObject({ PORT: 4000, EVENT_STORE: 'sqlite', HOST: '127.0.0.1' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.JWT_SECRET).toBeUndefined();
    expect(config.NODE_ID).toMatch(/^node-/);
  });

  it.each(['abc', '-1', '1.5', '1e3', '65536', '80abc'])('PORT=%s: ConfigError naming PORT and the value', (port) => {
    const error = configError({ PORT: port });
    expect(error.message).toMatch(/PORT/);
    expect(error.message).toContain(JSON.stringify(port));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^PORT=/);
  });

  it('PORT at the top of the range is accepted', () => {
    expect(loadConfig({ PORT: '65535' }).PORT).toBe(65_535);
  });

  it.each([
    'sqlite',
    'memory',
    'esdb://localhost:2113?tls=false',
    'esdb+discover://cluster.local:2113',
    'postgres://roomlog:secret@db.internal:5432/chat',
    'postgresql://db/chat?schema=chat_2',
  ])(
    'EVENT_STORE=%s is accepted',
    (value) => {
      expect(loadConfig({ EVENT_STORE: value }).EVENT_STORE).toBe(value);
    },
  );

  it.each(['bogus', 'mysql://x', 'SQLITE'])('EVENT_STORE=%s is refused, naming EVENT_STORE', (value) => {
    const error = configError({ EVENT_STORE: value });
    expect(error.message).toMatch(/EVENT_STORE/);
    expect(error.message).toMatch(/sqlite, memory, a postgres:\/\/ URL or an esdb/);
  });

  it('EVENT_STORE=postgres://… with a schema name that could not be quoted safely is refused, saying why', () => {
    const error = configError({ EVENT_STORE: 'postgres://db/chat?schema=Chat";drop' });
    expect(error.message).toMatch(/EVENT_STORE/);
    expect(error.message).toMatch(/schema must be lower-case letters, digits and _/);
  });

  it('every problem is reported, not only the first', () => {
    const error = configError({ PORT: 'abc', EVENT_STORE: 'bogus', LOG_LEVEL: 'loud' });
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/PORT/);
    expect(error.message).toMatch(/EVENT_STORE/);
    expect(error.message).toMatch(/LOG_LEVEL/);
  });

  it.each([
    ['JWT_SECRET', 'short'],
    ['JWT_SECRET', 'x'.repeat(31)],
    ['CORS_ORIGINS', 'chat.example.com'],
    ['CORS_ORIGINS', '*, https://a.example'],
    ['GRAPHIQL', 'no'],
    ['METRICS_PORT', '65536'],
    ['METRICS_TOKEN', 'short'],
    ['REDIS_URL', 'not a url'],
    ['NODE_ID', 'has space'],
    ['NODE_ID', 'x'.repeat(65)],
    ['RATE_LIMIT_WINDOW_MS', '0'],
    ['SESSION_TTL_SECONDS', '59'],
    ['MAX_BODY_CHARS', '1000001'],
  ])('%s=%s is refused, naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(`${name}=`);
  });

  it('ConfigError is an Error with a name', () => {
    const error = configError({ PORT: 'abc' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
  });
});

describe('limit settings (README, "Limits and abuse")', () => {
  it('budgets are <count>/<duration>, or 0 for none; defaults a person never meets', () => {
    const config = loadConfig({ RATE_LIMIT_EDITS: '5/30s', RATE_LIMIT_TYPING: '0' });
    expect(config.RATE_LIMIT_EDITS).toEqual({ limit: 5, windowMs: 30_000 });
    expect(config.RATE_LIMIT_TYPING.limit).toBe(0);
    expect(config.RATE_LIMIT_JOINS).toEqual({ limit: 20, windowMs: 600_000 });
    expect(config.RATE_LIMIT_SESSIONS_PER_ADDRESS).toEqual({ limit: 300, windowMs: 300_000 });
    expect(config.PASSWORD_BACKOFF_MAX).toBe(300_000);
    expect(config.TRUST_PROXY).toBe('loopback');
  });

  it.each([
    ['RATE_LIMIT_EDITS', '30'],
    ['RATE_LIMIT_EDITS', '30/soon'],
    ['RATE_LIMIT_ROOMS_PER_ADDRESS', '-1/1m'],
    ['PASSWORD_BACKOFF_MAX', '0'],
    ['TRUST_PROXY', 'localhost'],
  ])('%s=%s: ConfigError naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });
});
