/**
 * The web chat in a real browser (Debian's chromium via playwright-core), two people on two nodes
 * of one cluster, the network limited to those nodes: they chat both ways, see each other in the
 * presence list and typing; a reload resumes with no duplicate and no gap (and scrolls back
 * through history); a private room refuses a wrong password; while a page's node is gone it
 * shows "Reconnecting…" and, once a node is back at that address, catches up. Screenshots at
 * desktop and phone width go to test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { createChatClient, type ChatClient } from '../../client/src/index.js';
import { closeAllPeople, ensureWebBuilt, openPerson, screenshot, type Person } from '../support/browser.js';
import { startChatNodes, type ChatNodes } from '../support/chatNodes.js';
import { killAllNodes, type NodeHandle } from '../support/nodeProcess.js';
import { stopAllRedis } from '../support/redisServer.js';

let cluster: ChatNodes;
let nodeA: NodeHandle;
let nodeB: NodeHandle;
let ada: Person;
let bob: Person;
let lobbyId: string;
const clients: ChatClient[] = [];
const started = Date.now();

beforeAll(async () => {
  ensureWebBuilt();
  cluster = await startChatNodes(2, { RATE_LIMIT_MESSAGES: '0' });
  [nodeA, nodeB] = cluster.nodes as [NodeHandle, NodeHandle];
  const allowedOrigins = cluster.nodes.map((node) => node.url);
  ada = await openPerson({ allowedOrigins, viewport: { width: 1280, height: 800 } });
  bob = await openPerson({ allowedOrigins, viewport: { width: 390, height: 844 } });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await closeAllPeople();
  await killAllNodes();
  await stopAllRedis();
  console.log(`browser chat tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

async function signIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Start chatting' }).click();
  await expect.poll(() => page.getByTestId('me').textContent()).toBe(name);
}

const messageBodies = (page: Page) => page.getByTestId('message-body').allTextContents();
const statusOf = (page: Page) => page.getByTestId('connection-status').getAttribute('data-status');

/** A library client with the page's own session (from its localStorage), on `url`. */
async function clientAs(page: Page, url: string): Promise<ChatClient> {
  const session = JSON.parse((await page.evaluate(() => localStorage.getItem('roomlog.session')))!) as { token: string };
  const client = createChatClient({ url, token: session.token, webSocketImpl: WebSocket });
  clients.push(client);
  return client;
}

describe('the web chat', () => {
  it('two people on two nodes chat both ways; presence and typing show', async () => {
    await signIn(ada.page, nodeA.url, 'ada');
    await ada.page.getByLabel('Room name').fill('lobby');
    await ada.page.getByRole('button', { name: 'Create' }).click();
    await ada.page.getByRole('heading', { name: '# lobby' }).waitFor();
    lobbyId = (await ada.page.locator('section.room').getAttribute('data-room-id'))!;

    await signIn(bob.page, nodeB.url, 'bob');
    await bob.page.getByRole('button', { name: /# lobby/ }).waitFor();
    await screenshot(bob.page, 'chat-phone-rooms');
    await bob.page.getByRole('button', { name: /# lobby/ }).click();
    await bob.page.getByRole('heading', { name: '# lobby' }).waitFor();
    await expect.poll(() => bob.page.getByRole('button', { name: 'Back to rooms' }).isVisible()).toBe(true);

    // Presence: each sees the other (bob's page is served and connected by the other node).
    await expect.poll(() => ada.page.getByTestId('presence-count').textContent(), { timeout: 15_000 }).toContain('2 online');
    await expect.poll(() => ada.page.getByTestId('presence-list').textContent()).toContain('bob');
    await expect.poll(() => bob.page.getByTestId('presence-count').textContent(), { timeout: 15_000 }).toContain('2 online');

    // Typing shows on the other side before anything is sent.
    await bob.page.getByLabel('Message').fill('hello ada');
    await expect.poll(() => ada.page.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('bob is typing…');
    await bob.page.getByLabel('Message').press('Enter');
    await expect.poll(() => messageBodies(ada.page), { timeout: 10_000 }).toEqual(['hello ada']);
    await expect.poll(() => ada.page.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('');

    await ada.page.getByLabel('Message').fill('hi bob');
    await ada.page.getByLabel('Message').press('Enter');
    await expect.poll(() => messageBodies(bob.page), { timeout: 10_000 }).toEqual(['hello ada', 'hi bob']);

    // Edit and delete your own message; the other side follows.
    const mine = ada.page.getByTestId('message').filter({ hasText: 'hi bob' });
    await mine.getByRole('button', { name: 'Edit' }).click();
    await ada.page.getByLabel('Edit message').fill('hi bob, edited');
    await ada.page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => messageBodies(bob.page), { timeout: 10_000 }).toEqual(['hello ada', 'hi bob, edited']);
    // The editor closes once the edit is acknowledged (bob may see the event first).
    await expect.poll(() => ada.page.getByLabel('Edit message').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => bob.page.getByTestId('message').nth(1).textContent()).toContain('(edited)');
    // Only your own messages can be edited.
    expect(await ada.page.getByTestId('message').filter({ hasText: 'hello ada' }).getByRole('button', { name: 'Edit' }).count()).toBe(0);

    await ada.page.getByLabel('Message').fill('this one goes away');
    await ada.page.getByLabel('Message').press('Enter');
    await expect.poll(() => messageBodies(bob.page), { timeout: 10_000 }).toContain('this one goes away');
    const doomed = ada.page.getByTestId('message').filter({ hasText: 'this one goes away' });
    await doomed.getByRole('button', { name: 'Delete' }).click();
    await doomed.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => messageBodies(bob.page), { timeout: 10_000 }).toEqual(['hello ada', 'hi bob, edited', 'message deleted']);

    await bob.page.getByLabel('Message').fill('typing at phone width');
    await expect.poll(() => ada.page.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('bob is typing…');
    await screenshot(ada.page, 'chat-desktop');
    await screenshot(bob.page, 'chat-phone');
    await bob.page.getByLabel('Message').fill('');
  });

  it('a reload resumes with no duplicate and no gap, and scrolls back through history', async () => {
    const writer = await clientAs(ada.page, nodeA.url);
    for (let i = 0; i < 40; i++) await writer.send(lobbyId, `r${i}`);
    await expect.poll(async () => (await messageBodies(bob.page)).at(-1), { timeout: 15_000 }).toBe('r39');

    // Reload while messages keep coming.
    const reloading = bob.page.reload();
    for (let i = 40; i < 70; i++) await writer.send(lobbyId, `r${i}`);
    await reloading;
    await expect.poll(async () => (await messageBodies(bob.page)).at(-1), { timeout: 15_000 }).toBe('r69');

    // The first page of history is the newest 50; scrolling to the top brings the rest.
    // Each poll scrolls to the top again, so every older page that arrives brings the next one.
    await expect
      .poll(
        async () => {
          await bob.page.getByTestId('messages').evaluate((el) => el.scrollTo({ top: 0 }));
          return (await messageBodies(bob.page))[0];
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe('hello ada');
    const bodies = await messageBodies(bob.page);
    const seqs = (await bob.page.getByTestId('message').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq')))));
    expect(bodies).toEqual(['hello ada', 'hi bob, edited', 'message deleted', ...Array.from({ length: 70 }, (_, i) => `r${i}`)]);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await bob.page.getByTestId('pending-message').count()).toBe(0);
  });

  it('a private room refuses a wrong password', async () => {
    await ada.page.getByLabel('Room name').fill('secret');
    await ada.page.getByLabel('Password (optional)').fill('hunter22');
    await ada.page.getByRole('button', { name: 'Create' }).click();
    await ada.page.getByRole('heading', { name: '# secret' }).waitFor();
    expect(await ada.page.locator('.room-header .badge').textContent()).toBe('private');
    const secretId = (await ada.page.locator('.room-id code').textContent())!;
    // Private rooms are listed for their members only, never among the public rooms.
    await expect.poll(() => ada.page.getByTestId('my-rooms').textContent()).toContain('secret');
    await bob.page.getByRole('button', { name: 'Back to rooms' }).click();
    await expect.poll(() => bob.page.getByTestId('my-rooms').textContent()).toContain('lobby');
    expect(await bob.page.getByTestId('my-rooms').textContent()).not.toContain('secret');
    if ((await bob.page.getByTestId('room-list').count()) > 0) expect(await bob.page.getByTestId('room-list').textContent()).not.toContain('secret');

    await bob.page.getByLabel('Room id').fill(secretId);
    await bob.page.getByLabel('Room password').fill('wrong');
    await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect.poll(() => bob.page.getByTestId('join-error').textContent(), { timeout: 10_000 }).toContain('wrong password');
    await screenshot(bob.page, 'chat-phone-wrong-password');
    expect(await bob.page.getByTestId('message').count()).toBe(0);

    await bob.page.locator('#room-password').fill('hunter22');
    await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
    await bob.page.getByRole('heading', { name: '# secret' }).waitFor();
    await expect.poll(() => ada.page.getByTestId('presence-list').textContent(), { timeout: 15_000 }).toContain('bob');
  });

  it('shows "Reconnecting…" while its node is gone, then catches up with what it missed', async () => {
    const secretId = (await bob.page.locator('section.room').getAttribute('data-room-id'))!;
    await expect.poll(() => statusOf(bob.page)).toBe('connected');
    await nodeB.kill();
    await expect.poll(() => statusOf(bob.page), { timeout: 10_000 }).toBe('reconnecting');
    await expect.poll(() => bob.page.getByTestId('connection-status').textContent()).toBe('Reconnecting…');
    expect(await bob.page.getByTestId('connection-banner').textContent()).toContain('Reconnecting');
    await screenshot(bob.page, 'chat-phone-reconnecting');

    for (let i = 0; i < 3; i++) {
      await ada.page.getByLabel('Message').fill(`while you were away ${i}`);
      await ada.page.getByLabel('Message').press('Enter');
    }
    await expect.poll(async () => (await messageBodies(ada.page)).length, { timeout: 10_000 }).toBe(3);

    // A node comes back at the address bob's page knows.
    await cluster.addNode(nodeB.port);
    await expect.poll(() => statusOf(bob.page), { timeout: 20_000 }).toBe('connected');
    expect(await bob.page.getByTestId('connection-banner').count()).toBe(0);
    await expect.poll(() => messageBodies(bob.page), { timeout: 15_000 }).toEqual(['while you were away 0', 'while you were away 1', 'while you were away 2']);
    expect(await bob.page.locator('section.room').getAttribute('data-room-id')).toBe(secretId);
  });

  it('loaded nothing from outside the nodes', () => {
    expect(ada.outside).toEqual([]);
    expect(bob.outside).toEqual([]);
  });
});
