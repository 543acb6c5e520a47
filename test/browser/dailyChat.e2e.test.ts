/**
 * The web chat as a daily tool, in Chromium at desktop (1280×800) and phone (390×844) width, each
 * against a node of its own: 60-character room and user names never make anything wider than the
 * viewport or its column (room list, open room, people panel, the name dialog, the reconnect
 * banner); the user's rooms (public and private) are listed and survive a reload, with a Leave
 * button; unread counts and the tab title move as another user sends; the sidebar's member count
 * keeps up with the people list; a "new messages below" marker while scrolled up; one author's
 * consecutive messages grouped, a date line, http(s) links clickable and everything else text;
 * a rename keeps the user (their messages, their private rooms), and starting over as someone new
 * is warned about first; sends refused by the rate limit go out by themselves. Every state is saved as a screenshot under
 * test-artifacts/screenshots/ (paths printed).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { createChatClient, createSession, type ChatClient, type Room } from '../../client/src/index.js';
import { closeAllPeople, ensureWebBuilt, openPerson, screenshot, type Person } from '../support/browser.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { roomStream, type UserRef } from '../../src/domain/events.js';
import { messageIdFor, postEventId } from '../../src/domain/ids.js';
import { createSqliteEventStore } from '../../src/eventStore/sqliteEventStore.js';

const DAY_MS = 86_400_000;

/**
 * A public room "archive" whose messages were written two days ago and yesterday, appended to the
 * node's SQLite log before it starts (with the times an import would give them): the API can only
 * write "now", and date lines need days.
 */
async function seedArchive(dataDir: string): Promise<{ roomId: string; twoDaysAgo: number }> {
  const store = createSqliteEventStore({ file: join(dataDir, 'events.sqlite') });
  const roomId = `archive${randomUUID().slice(0, 8)}`;
  const elder: UserRef = { id: 'u-elder', name: 'elder' };
  const twoDaysAgo = Date.now() - 2 * DAY_MS;
  const post = (clientMessageId: string, body: string, createdAt: number) => {
    const id = postEventId(roomId, elder.id, clientMessageId);
    return { id, type: 'MessagePosted', data: { roomId, messageId: messageIdFor(roomId, id), clientMessageId, author: elder, body }, createdAt };
  };
  await store.append(
    roomStream(roomId),
    [
      { id: randomUUID(), type: 'RoomCreated', data: { roomId, name: 'archive', passwordHash: null, createdBy: elder }, createdAt: twoDaysAgo },
      { id: randomUUID(), type: 'MemberJoined', data: { roomId, user: elder }, createdAt: twoDaysAgo },
      post('c1', 'from two days ago', twoDaysAgo + 1_000),
      post('c2', 'from yesterday', Date.now() - DAY_MS),
    ],
    { expectedRevision: 0 },
  );
  await store.close();
  return { roomId, twoDaysAgo };
}

const LONG_ROOM = 'Quarterly-planning-for-the-infrastructure-and-platform-teams'; // 60 characters, no space
const LONG_USER = 'Maximiliana-Konstantinopolous-Wolfeschlegelsteinhausenberger'; // 60 characters, no space
const RENAMED = 'Konstantinopolous-Maximiliana-Wolfeschlegelsteinhausenberger';
const WIDTHS = [
  { label: 'desktop', viewport: { width: 1280, height: 800 } },
  { label: 'phone', viewport: { width: 390, height: 844 } },
] as const;
const started = Date.now();

beforeAll(() => {
  expect(LONG_ROOM).toHaveLength(60);
  expect(LONG_USER).toHaveLength(60);
  expect(RENAMED).toHaveLength(60);
  ensureWebBuilt();
}, 120_000);

afterAll(async () => {
  await closeAllPeople();
  await stopAllInProcessNodes();
  console.log(`daily chat browser tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

/**
 * Every visible element that reaches past the viewport or past its column (top bar, alerts,
 * sidebar, main), and every container that scrolls sideways: none is the goal.
 */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const viewport = document.documentElement.clientWidth;
    const name = (el: Element) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
    if (document.documentElement.scrollWidth > viewport) problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${viewport}`);
    for (const el of document.querySelectorAll('body *')) {
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.left < -1 || box.right > viewport + 1) problems.push(`${name(el)} spans ${Math.round(box.left)}…${Math.round(box.right)} in a ${viewport} px viewport`);
      const column = el.parentElement?.closest('.topbar, .alerts, .sidebar, .main');
      if (column) {
        const c = column.getBoundingClientRect();
        if (box.left < c.left - 1 || box.right > c.right + 1) problems.push(`${name(el)} spans ${Math.round(box.left)}…${Math.round(box.right)}, its column ${name(column)} ${Math.round(c.left)}…${Math.round(c.right)}`);
      }
      if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) problems.push(`${name(el)} scrolls sideways: ${el.scrollWidth} > ${el.clientWidth}`);
    }
    return problems;
  });
}

async function expectLayoutFits(page: Page): Promise<void> {
  const problems = await layoutProblems(page);
  if (problems.length > 0) throw new Error(`layout problems:\n${problems.slice(0, 12).join('\n')}${problems.length > 12 ? `\n… ${problems.length - 12} more` : ''}`);
}

async function shot(page: Page, name: string): Promise<void> {
  const path = await screenshot(page, `screenshots/${name}`);
  console.log(`screenshot: ${path}`);
}

async function signIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Start chatting' }).click();
  await expect.poll(() => page.getByTestId('me').textContent()).toBe(name);
}

const myRoomNames = (page: Page) => page.getByTestId('my-rooms').locator('.room-name').allTextContents();
const myRoom = (page: Page, roomId: string) => page.getByTestId('my-rooms').locator(`[data-room-id="${roomId}"]`);
const bodies = (page: Page) => page.getByTestId('message-body').allTextContents();

/** Back to the room list: at phone width the list and the open room are separate screens. */
async function showRoomList(page: Page, phone: boolean): Promise<void> {
  if (phone) await page.getByRole('button', { name: 'Back to rooms' }).click();
  await page.getByTestId('my-rooms').waitFor();
}

async function openRoom(page: Page, roomId: string): Promise<void> {
  await myRoom(page, roomId).click();
  await page.locator(`section.room[data-room-id="${roomId}"]`).waitFor();
}

for (const { label, viewport } of WIDTHS) {
  describe(`the web chat at ${label} width (${viewport.width}×${viewport.height})`, () => {
    const phone = viewport.width < 700;
    let node: InProcessNode;
    let person: Person;
    let page: Page;
    let bob: ChatClient;
    let longRoomId: string;
    let bobsRoom: Room;
    let secretId: string;
    let dataDir: string;
    let archive: { roomId: string; twoDaysAgo: number };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'roomlog-daily-'));
      archive = await seedArchive(dataDir);
      // A send limit low enough to trip in a test: a burst of 5, then one every 400 ms.
      node = await startInProcessNode({ dataDir, env: { RATE_LIMIT_MESSAGES: '5', RATE_LIMIT_WINDOW_MS: '2000' } });
      person = await openPerson({ allowedOrigins: [node.url], viewport });
      page = person.page;
      const session = await createSession(node.url, 'bob');
      bob = createChatClient({ url: node.url, token: session.token, webSocketImpl: WebSocket });
      bobsRoom = await bob.createRoom('bobs-room');
    }, 60_000);

    afterAll(async () => {
      await bob?.close();
      await person?.close();
      await node?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('60-character room and user names stay inside the viewport and their columns', async () => {
      await signIn(page, node.url, LONG_USER);
      await page.getByLabel('Room name').fill(LONG_ROOM);
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: `# ${LONG_ROOM}` }).waitFor();
      longRoomId = (await page.locator('section.room').getAttribute('data-room-id'))!;
      await bob.joinRoom(longRoomId);
      await page.getByLabel('Message').fill('a message from someone with a very long name');
      await page.getByLabel('Message').press('Enter');
      await expect.poll(() => bodies(page)).toEqual(['a message from someone with a very long name']);
      await bob.send(longRoomId, 'and one from bob');
      await expect.poll(() => bodies(page)).toHaveLength(2);
      await expectLayoutFits(page);
      await shot(page, `${label}-long-names-room`);

      // The people panel: on a phone it opens over the conversation, flush under the header,
      // opaque (nothing of the messages shows through).
      if (phone) await page.getByTestId('presence-count').click();
      await expect.poll(() => page.getByTestId('presence-list').textContent()).toContain(LONG_USER);
      const people = page.locator('.people');
      const header = await page.locator('.room-header').boundingBox();
      const panel = (await people.boundingBox())!;
      if (phone) {
        expect(Math.abs(panel.y - (header!.y + header!.height))).toBeLessThanOrEqual(1);
        expect(await people.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toMatch(/rgba\(.*, 0\)|transparent/);
        // What is on top at points across the panel is the panel itself.
        const covered = await page.evaluate(({ x, y, width, height }) => {
          const points = [0.1, 0.5, 0.9].flatMap((fx) => [0.02, 0.5, 0.98].map((fy) => [x + width * fx, y + height * fy] as const));
          return points.every(([px, py]) => document.elementFromPoint(px, py)?.closest('.people') !== null);
        }, panel);
        expect(covered).toBe(true);
      }
      await expectLayoutFits(page);
      await shot(page, `${label}-long-names-people`);
      if (phone) await page.getByTestId('presence-count').click();

      await showRoomList(page, phone);
      await expect.poll(() => myRoomNames(page)).toContain(`# ${LONG_ROOM}`);
      await expectLayoutFits(page);
      await shot(page, `${label}-long-names-room-list`);
    });

    it("lists the user's rooms, public and private, after a reload; Leave takes one off", async () => {
      // A private room of the user's own, and bob's public room joined from the directory.
      await page.getByLabel('Room name').fill('secret');
      await page.getByLabel('Password (optional)').fill('hunter2222');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: '# secret' }).waitFor();
      secretId = (await page.locator('section.room').getAttribute('data-room-id'))!;
      await showRoomList(page, phone);
      await page.getByTestId('room-list').locator(`[data-room-id="${bobsRoom.id}"]`).click();
      await page.getByRole('heading', { name: '# bobs-room' }).waitFor();

      await page.reload();
      await showRoomList(page, phone).catch(() => page.getByTestId('my-rooms').waitFor());
      await expect.poll(() => myRoomNames(page)).toEqual(expect.arrayContaining(['# bobs-room', '# secret', `# ${LONG_ROOM}`]));
      expect(await myRoom(page, secretId).getByTestId('private-room').count()).toBe(1);
      await expectLayoutFits(page);
      await shot(page, `${label}-my-rooms-after-reload`);

      // The private room opens from the list without its password.
      await openRoom(page, secretId);
      await page.getByLabel('Message').waitFor();
      expect(await page.locator('#room-password').count()).toBe(0);

      await showRoomList(page, phone);
      await openRoom(page, bobsRoom.id);
      await page.getByRole('button', { name: 'Leave' }).click();
      await expect.poll(() => myRoomNames(page)).not.toContain('# bobs-room');
      await expect.poll(() => page.getByTestId('room-list').locator('.room-name').allTextContents()).toContain('# bobs-room');
      expect((await bob.room(bobsRoom.id))?.memberCount).toBe(1);
      await shot(page, `${label}-after-leave`);
    });

    it('unread counts and the tab title move as another user sends', async () => {
      await bob.joinRoom(secretId, 'hunter2222');
      await expect.poll(() => page.title()).toBe('roomlog');
      for (let i = 0; i < 3; i++) await bob.send(secretId, `unread ${i}`);
      // A join and three messages: four events since the user last looked.
      await expect.poll(() => myRoom(page, secretId).getByTestId('unread').textContent(), { timeout: 10_000 }).toBe('4');
      await expect.poll(() => page.title()).toBe('(4) roomlog');
      await bob.send(secretId, 'unread 3');
      await expect.poll(() => myRoom(page, secretId).getByTestId('unread').textContent(), { timeout: 10_000 }).toBe('5');
      await expect.poll(() => page.title()).toBe('(5) roomlog');
      await expectLayoutFits(page);
      await shot(page, `${label}-unread`);

      await openRoom(page, secretId);
      await expect.poll(() => bodies(page)).toEqual(['unread 0', 'unread 1', 'unread 2', 'unread 3']);
      await expect.poll(() => page.title()).toBe('roomlog');
      // In a background tab the open room's new messages count too, until the reader is back.
      const setVisibility = (state: 'hidden' | 'visible') =>
        page.evaluate((value) => {
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => value });
          document.dispatchEvent(new Event('visibilitychange'));
        }, state);
      await setVisibility('hidden');
      await bob.send(secretId, 'while you were in another tab');
      await expect.poll(() => page.title(), { timeout: 10_000 }).toBe('(1) roomlog');
      await setVisibility('visible');
      await expect.poll(() => page.title()).toBe('roomlog');
      // Survives a reload: what was read stays read.
      await page.reload();
      await page.locator(`section.room[data-room-id="${secretId}"]`).waitFor();
      await showRoomList(page, phone);
      await expect.poll(() => myRoom(page, secretId).getByTestId('member-count').textContent()).toBe('2 members');
      expect(await page.title()).toBe('roomlog');
    });

    it("the sidebar's member count keeps up with the people list", async () => {
      await openRoom(page, longRoomId);
      const carolSession = await createSession(node.url, 'carol');
      const carol = createChatClient({ url: node.url, token: carolSession.token, webSocketImpl: WebSocket });
      try {
        await carol.joinRoom(longRoomId);
        const stop = carol.onPresence(longRoomId, () => {});
        if (phone) await page.getByTestId('presence-count').click();
        await expect.poll(() => page.getByTestId('presence-list').textContent(), { timeout: 10_000 }).toContain('carol');
        if (phone) {
          await page.getByTestId('presence-count').click();
          await showRoomList(page, phone);
        }
        // Well inside the directory's 10 s refresh: the count comes from the room's own events.
        await expect.poll(() => myRoom(page, longRoomId).getByTestId('member-count').textContent(), { timeout: 2_000 }).toBe('3 members');
        await shot(page, `${label}-member-count`);
        stop();
      } finally {
        await carol.close();
      }
    });

    it('marks new messages below while scrolled up, groups one author, shows the date, and links only http(s)', async () => {
      if (phone) await openRoom(page, longRoomId);
      else await page.locator(`section.room[data-room-id="${longRoomId}"]`).waitFor();
      for (let i = 0; i < 14; i++) await bob.send(longRoomId, `filler ${i}\nsecond line\nthird line`);
      await expect.poll(async () => (await bodies(page)).length, { timeout: 15_000 }).toBe(16);
      await page.getByTestId('messages').evaluate((el) => el.scrollTo({ top: 0 }));
      await bob.send(longRoomId, 'below 1');
      await bob.send(longRoomId, 'below 2');
      await expect.poll(() => page.getByTestId('new-messages').textContent(), { timeout: 10_000 }).toBe('2 new messages below ↓');
      await expectLayoutFits(page);
      await shot(page, `${label}-new-messages-below`);
      await page.getByTestId('new-messages').click();
      await expect.poll(() => page.getByTestId('new-messages').count()).toBe(0);
      const atBottom = await page.getByTestId('messages').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 40);
      expect(atBottom).toBe(true);

      // bob's messages in a row: one header, the rest continue it.
      const continues = (text: string) => page.getByTestId('message').filter({ hasText: text }).evaluateAll((els) => els.map((el) => el.getAttribute('data-continues')));
      expect(await continues('and one from bob')).toEqual([null]); // follows the user's own message
      expect(await continues('filler')).toEqual(Array(14).fill('true'));
      expect(await page.getByTestId('message').filter({ hasText: 'and one from bob' }).locator('.author').textContent()).toBe('bob');
      expect(await page.getByTestId('day-separator').allTextContents()).toEqual(['Today']);

      const hostile = 'read https://example.com/a?b=1&c=2. then javascript:alert(1) <img src=x onerror="window.__xss=1"> <a href="http://evil.example">x</a> www.example.org';
      await bob.send(longRoomId, hostile);
      const last = page.getByTestId('message-body').last();
      await expect.poll(() => last.textContent(), { timeout: 10_000 }).toBe(hostile);
      const links = await last.locator('a').evaluateAll((els) => els.map((a) => ({ href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel'), text: a.textContent })));
      // The http URL written inside the HTML is a URL like any other: linked, the markup around it text.
      expect(links).toEqual([
        { href: 'https://example.com/a?b=1&c=2', target: '_blank', rel: 'noopener noreferrer', text: 'https://example.com/a?b=1&c=2' },
        { href: 'http://evil.example/', target: '_blank', rel: 'noopener noreferrer', text: 'http://evil.example' },
      ]);
      expect(await page.locator('.messages img').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      await expectLayoutFits(page);
      await shot(page, `${label}-grouped-links`);
    });

    it('puts a date line before each day', async () => {
      await showRoomList(page, phone).catch(() => page.getByTestId('room-list').waitFor());
      await page.getByTestId('room-list').locator(`[data-room-id="${archive.roomId}"]`).click();
      await page.getByRole('heading', { name: '# archive' }).waitFor();
      await page.getByLabel('Message', { exact: true }).fill('from today');
      await page.getByLabel('Message', { exact: true }).press('Enter');
      await expect.poll(() => bodies(page)).toEqual(['from two days ago', 'from yesterday', 'from today']);
      // The browser runs in UTC (test/support/browser.ts): two days ago is written out.
      const labels = await page.getByTestId('day-separator').allTextContents();
      const day = new Date(archive.twoDaysAgo);
      expect(labels.slice(1)).toEqual(['Yesterday', 'Today']);
      expect(labels[0]).toContain(String(day.getUTCFullYear()));
      expect(labels[0]).toContain(String(day.getUTCDate()));
      await expectLayoutFits(page);
      await shot(page, `${label}-date-lines`);
      await showRoomList(page, phone);
      await openRoom(page, longRoomId);
    });

    it('renames the user without losing who they are (and warns before starting over as someone new)', async () => {
      await page.getByRole('button', { name: 'Change name' }).click();
      const dialog = page.getByTestId('change-name');
      await page.getByRole('button', { name: 'Start over as someone new…' }).click();
      await expect.poll(() => page.getByTestId('new-identity-warning').textContent()).toContain('Starting over makes a new identity');
      expect(await page.getByTestId('new-identity-warning').textContent()).toContain(LONG_USER);
      await expectLayoutFits(page);
      await shot(page, `${label}-change-name`);
      await page.getByRole('button', { name: 'Keep me' }).click();

      await page.locator('#new-name').fill(RENAMED);
      await page.getByRole('button', { name: 'Rename' }).click();
      await expect.poll(() => page.getByTestId('me').textContent(), { timeout: 10_000 }).toBe(RENAMED);
      expect(await dialog.count()).toBe(0);
      // Still the same user: the message written under the old name is still theirs to edit.
      const earlier = page.getByTestId('message').filter({ hasText: 'a message from someone with a very long name' });
      await expect.poll(() => earlier.getByRole('button', { name: 'Edit' }).count(), { timeout: 10_000 }).toBe(1);
      expect(await earlier.locator('.author').textContent()).toBe(LONG_USER);
      await page.getByLabel('Message').fill('now under the new name');
      await page.getByLabel('Message').press('Enter');
      const newer = page.getByTestId('message').filter({ hasText: 'now under the new name' });
      await expect.poll(() => newer.locator('.author').textContent(), { timeout: 10_000 }).toBe(RENAMED);
      // bob sees the rename in the room's log.
      const events = await bob.urql.query('query($id: ID!) { roomEvents(roomId: $id, limit: 1000) { __typename ... on MemberRenamed { previousName user { name } } } }', { id: longRoomId }).toPromise();
      const renames = (events.data as { roomEvents: Array<{ __typename: string; previousName?: string; user?: { name: string } }> }).roomEvents.filter((e) => e.__typename === 'MemberRenamed');
      expect(renames).toEqual([{ __typename: 'MemberRenamed', previousName: LONG_USER, user: { name: RENAMED } }]);
      await expectLayoutFits(page);
      await shot(page, `${label}-renamed`);
      // The private room is still theirs, without its password.
      await showRoomList(page, phone);
      await openRoom(page, secretId);
      await page.getByLabel('Message').waitFor();
      expect(await page.locator('#room-password').count()).toBe(0);
    });

    it('sends refused by the rate limit go out by themselves, in order', async () => {
      const box = page.getByLabel('Message');
      const sent = Array.from({ length: 8 }, (_, i) => `quick ${i}`);
      for (const body of sent) {
        await box.fill(body);
        await box.press('Enter');
      }
      // Beyond the burst of 5 each waits for the limit; none needs a Retry.
      await expect.poll(async () => (await bodies(page)).slice(-8), { timeout: 15_000 }).toEqual(sent);
      expect(await page.getByTestId('pending-message').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    });

    it('the reconnect banner stays inside the page', async () => {
      await node.stop();
      await expect.poll(() => page.getByTestId('connection-banner').count(), { timeout: 10_000 }).toBe(1);
      await expectLayoutFits(page);
      await shot(page, `${label}-reconnecting`);
    });

    it('loaded nothing from outside the node', () => {
      expect(person.outside).toEqual([]);
    });
  });
}
