import { describe, expect, it } from 'vitest';
import { describeStartupFailure, redactUrl } from '../../src/startupFailure.js';

const config = { PORT: 4000, HOST: '127.0.0.1', DATA_DIR: '/srv/roomlog', EVENT_STORE: 'sqlite', METRICS_PORT: undefined, METRICS_HOST: undefined };
const systemError = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.code)), fields);

describe('the one line for a start-up failure (src/startupFailure.ts)', () => {
  it('names the listener that failed: PORT, or METRICS_PORT on its own port', () => {
    const inUse = systemError({ code: 'EADDRINUSE', syscall: 'listen', port: 9100, address: '127.0.0.1' });
    expect(describeStartupFailure(inUse, { ...config, METRICS_PORT: 9100 })).toBe(
      'cannot start: METRICS_PORT=9100 on METRICS_HOST=127.0.0.1 is already in use (EADDRINUSE); stop what listens there or set another METRICS_PORT',
    );
    expect(describeStartupFailure(systemError({ code: 'EACCES', syscall: 'listen', port: 80 }), { ...config, PORT: 80 })).toMatch(/^cannot start: not allowed to listen on PORT=80 on HOST=127\.0\.0\.1 \(EACCES; ports below 1024/);
    expect(describeStartupFailure(systemError({ code: 'EADDRNOTAVAIL', syscall: 'listen', port: 4000 }), { ...config, HOST: '10.9.9.9' })).toMatch(/HOST=10\.9\.9\.9 is not an address of this machine/);
  });

  it('DATA_DIR: a file error at or under it (or above it), or SQLite unable to open its file', () => {
    expect(describeStartupFailure(systemError({ code: 'EACCES', syscall: 'open', path: '/srv/roomlog/jwt-secret' }), config)).toMatch(/^cannot start: DATA_DIR=\/srv\/roomlog is not usable: .*\(EACCES at \/srv\/roomlog\/jwt-secret\)/);
    expect(describeStartupFailure(systemError({ code: 'EROFS', syscall: 'mkdir', path: '/srv' }), config)).toMatch(/DATA_DIR=\/srv\/roomlog is not usable/);
    expect(describeStartupFailure(systemError({ code: 'ENOSPC', syscall: 'write', path: '/srv/roomlog/events.sqlite' }), config)).toMatch(/the disk is full/);
    expect(describeStartupFailure(systemError({ code: 'SQLITE_CANTOPEN', name: 'SqliteError' }), config)).toMatch(/DATA_DIR=\/srv\/roomlog is not usable: .*\(SQLITE_CANTOPEN\)/);
    // Somewhere else entirely: not DATA_DIR's fault, keep the stack.
    expect(describeStartupFailure(systemError({ code: 'EACCES', syscall: 'open', path: '/etc/ssl/key.pem' }), config)).toBeNull();
  });

  it('an unreachable EventStoreDB only when EVENT_STORE is one; anything else is a bug and keeps its stack', () => {
    const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.5:2113. Resolution note: '), { name: 'UnavailableError' });
    expect(describeStartupFailure(grpc, { ...config, EVENT_STORE: 'esdb://admin:secret@10.0.0.5:2113?tls=false' })).toBe(
      'cannot start: the event store at EVENT_STORE=esdb://admin:***@10.0.0.5:2113?tls=false does not answer (connect ECONNREFUSED 10.0.0.5:2113); start EventStoreDB or fix EVENT_STORE',
    );
    expect(describeStartupFailure(grpc, config)).toBeNull();
    expect(describeStartupFailure(new TypeError('x is undefined'), config)).toBeNull();
    expect(describeStartupFailure('a string', config)).toBeNull();
  });
});

describe('what is not the event store', () => {
  it('a refused Redis connection while EVENT_STORE is an EventStoreDB is not blamed on EVENT_STORE', () => {
    const redis = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', syscall: 'connect', port: 6379 });
    expect(describeStartupFailure(redis, { ...config, EVENT_STORE: 'esdb://127.0.0.1:2113?tls=false' })).toBeNull();
  });
});

describe('PostgreSQL (EVENT_STORE=postgres://…)', () => {
  const pg = { ...config, EVENT_STORE: 'postgres://app:hunter2@db.internal:6432/chat' };
  it('a refused connection to its port, its own refusals in words; the password never shown', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.1.1:6432'), { code: 'ECONNREFUSED', port: 6432 });
    expect(describeStartupFailure(refused, pg)).toBe(
      'cannot start: the event store at EVENT_STORE=postgres://app:***@db.internal:6432/chat does not answer (connect ECONNREFUSED 10.1.1.1:6432); start PostgreSQL or fix EVENT_STORE',
    );
    expect(describeStartupFailure(Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' }), pg)).toMatch(/PostgreSQL at EVENT_STORE=postgres:\/\/app:\*\*\*@db\.internal:6432\/chat refused the password/);
    // Another port refused (Redis, say): not the store's.
    expect(describeStartupFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', port: 6379 }), pg)).toBeNull();
  });
});

describe('redactUrl: no password of a connection string is printed', () => {
  it('hides the password in user:password@, keeps the rest', () => {
    expect(redactUrl('postgres://chat:s3cret@db.example:5432/chat?schema=roomlog')).toBe('postgres://chat:***@db.example:5432/chat?schema=roomlog');
    expect(redactUrl('esdb://admin:changeit@127.0.0.1:2113?tls=false')).toBe('esdb://admin:***@127.0.0.1:2113?tls=false');
  });
  it('hides a password given as a query parameter', () => {
    expect(redactUrl('postgres://db.example/chat?user=chat&password=s3cret&schema=x')).toBe('postgres://db.example/chat?user=chat&password=***&schema=x');
    expect(redactUrl('postgres://db.example/chat?sslpassword=k3y')).toBe('postgres://db.example/chat?sslpassword=***');
  });
  it('leaves names without a password alone', () => {
    expect(redactUrl('sqlite')).toBe('sqlite');
    expect(redactUrl('esdb://127.0.0.1:2113?tls=false')).toBe('esdb://127.0.0.1:2113?tls=false');
  });
});

describe('a driver error wrapped by the event store adapter', () => {
  it('is described by what it wraps (the store "does not answer" at start is still one line naming EVENT_STORE)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', port: 5432 });
    const wrapped = Object.assign(new Error('the event log does not answer right now; retry shortly'), { cause: refused });
    expect(describeStartupFailure(wrapped, { ...config, EVENT_STORE: 'postgres://chat:pw@127.0.0.1:5432/chat' })).toBe(
      'cannot start: the event store at EVENT_STORE=postgres://chat:***@127.0.0.1:5432/chat does not answer (connect ECONNREFUSED 127.0.0.1:5432); start PostgreSQL or fix EVENT_STORE',
    );
  });
});
