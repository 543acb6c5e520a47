import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSessions } from '../../../src/auth/sessions.js';
import { chatHarness, expectRejects, type ChatHarness } from './harness.js';

let h: ChatHarness;
beforeEach(async () => (h = await chatHarness({ maxNameChars: 10 })));
afterEach(() => h.close());

describe('createSession', () => {
  it('issues a session under the trimmed display name, with a token the sessions verify', async () => {
    const session = await h.chat.createSession('  Ada  ');
    expect(session.user.name).toBe('Ada');
    expect(session.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const sessions = createSessions({ secret: new TextEncoder().encode('unit-test-secret'), ttlSeconds: 60 });
    expect(await sessions.verify(session.token)).toEqual(session.user);
  });

  it('refuses a blank name, control characters, and a name over the limit', async () => {
    await expectRejects(() => h.chat.createSession('   '), 'invalid_input', 'name must not be empty');
    await expectRejects(() => h.chat.createSession('a\u202eb'), 'invalid_input', 'name contains an invisible or control character (U+202E)');
    await expectRejects(() => h.chat.createSession('x'.repeat(11)), 'invalid_input', 'name is longer than 10 characters');
  });
});
