import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createPasswords, type Passwords } from '../../src/auth/passwords.js';

/** Nice values of this process's threads (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, so nice (field 19) is index 16 of the rest.
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended while we looked
    }
  });
}

describe('password checks on low-priority threads', () => {
  let passwords: Passwords | undefined;
  afterEach(async () => {
    await passwords?.close();
    passwords = undefined;
  });

  it('hashes and verifies: the right password passes, a wrong one and a malformed hash do not', async () => {
    passwords = createPasswords({ concurrency: 2, maxQueued: 4 });
    const hash = await passwords.hash('correct horse battery');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await passwords.verify('correct horse battery', hash)).toBe(true);
    expect(await passwords.verify('correct horse batterY', hash)).toBe(false);
    expect(await passwords.verify('correct horse battery', 'md5$abc')).toBe(false);
  });

  it('normalises the password (NFKC) before hashing, so one written two ways checks alike', async () => {
    passwords = createPasswords({ concurrency: 1, maxQueued: 4 });
    const hash = await passwords.hash('ﬁsh and chips');
    expect(await passwords.verify('fish and chips', hash)).toBe(true);
  });

  it('runs scrypt on a thread at nice 19, so a flood of checks yields the CPU to the event loop', async () => {
    const lowered = () => threadNiceValues().filter((nice) => nice === 19).length;
    expect(lowered()).toBe(0);
    passwords = createPasswords({ concurrency: 2, maxQueued: 4 });
    const hash = await passwords.hash('correct horse battery');
    await Promise.all([passwords.verify('wrong one here', hash), passwords.verify('another wrong', hash)]);
    expect(lowered()).toBe(2);
    await passwords.close();
    passwords = undefined;
    await expect.poll(lowered).toBe(0);
  });

  it('refuses checks after close instead of hanging', async () => {
    passwords = createPasswords({ concurrency: 1, maxQueued: 4 });
    await passwords.close();
    await expect(passwords.hash('correct horse battery')).rejects.toThrow(/closed/);
  });
});
