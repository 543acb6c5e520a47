/**
 * GraphiQL at /graphql in a real browser, with the network limited to the node: it loads entirely
 * from the node (no CDN), opens with the example operations, and runs a subscription over
 * WebSocket (the token from its Headers tab) that shows a live event as it happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createChatClient, createSession, type ChatClient } from '../../client/src/index.js';
import { closeAllPeople, openPerson, screenshot } from '../support/browser.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
let client: ChatClient | undefined;

beforeAll(async () => {
  node = await startInProcessNode();
});
afterAll(async () => {
  await client?.close();
  await closeAllPeople();
  await stopAllInProcessNodes();
});

type Page = import('playwright-core').Page;
/** The text of one of GraphiQL's editors (Monaco renders spaces as no-break spaces). */
const editorText = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, ' ');
const resultText = (page: Page) => editorText(page, '.graphiql-response');

describe('GraphiQL', () => {
  it('loads from the node alone and opens with the example operations', async () => {
    const person = await openPerson({ allowedOrigins: [node.url] });
    await person.page.goto(`${node.url}/graphql`, { waitUntil: 'load' });
    await person.page.getByRole('button', { name: /Execute query/ }).waitFor();
    await expect.poll(() => editorText(person.page, '.graphiql-query-editor'), { timeout: 15_000 }).toContain('mutation CreateSession');
    expect(await editorText(person.page, '.graphiql-query-editor')).toContain('subscription Follow');
    expect(person.outside).toEqual([]);
    await person.close();
  });

  it('runs a subscription over WebSocket and shows a live event', async () => {
    const session = await createSession(node.url, 'ada');
    client = createChatClient({ url: node.url, token: session.token, webSocketImpl: WebSocket });
    const room = await client.createRoom('graphiql');

    const person = await openPerson({ allowedOrigins: [node.url] });
    const frames: string[] = [];
    person.page.on('websocket', (ws) => ws.on('framereceived', (frame) => frames.push(String(frame.payload))));
    // What a user would type: the operation, its variables, and the token in the Headers tab.
    const editors = {
      query: 'subscription Follow($roomId: ID!) {\n  roomEvents(roomId: $roomId, afterSeq: 0) {\n    seq __typename\n    ... on MessagePosted { message { author { name } body } }\n  }\n}\n',
      variables: JSON.stringify({ roomId: room.id }),
      headers: JSON.stringify({ Authorization: `Bearer ${session.token}` }),
    };
    await person.context.addInitScript((state) => {
      localStorage.setItem('graphiql:query', state.query);
      localStorage.setItem('graphiql:variables', state.variables);
      localStorage.setItem('graphiql:headers', state.headers);
    }, editors);
    await person.page.goto(`${node.url}/graphql`);
    await person.page.getByRole('button', { name: /Execute query/ }).click();
    // The replay from seq 0 shows first; what is sent after it arrives live.
    await expect.poll(() => resultText(person.page), { timeout: 15_000 }).toContain('MemberJoined');
    expect(frames.some((frame) => frame.includes('hello from the library'))).toBe(false);

    await client.send(room.id, 'hello from the library');
    await expect.poll(() => resultText(person.page), { timeout: 15_000 }).toContain('hello from the library');
    expect(await resultText(person.page)).toContain('MessagePosted');
    expect(frames.some((frame) => frame.includes('"type":"next"') && frame.includes('hello from the library'))).toBe(true);
    await screenshot(person.page, 'graphiql-subscription');
    expect(person.outside).toEqual([]);
  });
});
