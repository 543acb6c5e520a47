/**
 * The node's pages under their Content-Security-Policy (src/server/securityHeaders.ts), in a real
 * browser: the web chat and GraphiQL do everything they did (sign in, send, run an operation)
 * without a single violation, while what the policy is for is refused: script injected into the
 * page, a connection to another host, and being framed by another site.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAllPeople, ensureWebBuilt, openPerson, type Person } from '../support/browser.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

type Page = import('playwright-core').Page;

let node: ServerHandle;

beforeAll(async () => {
  ensureWebBuilt();
  node = await startInProcessNode();
}, 120_000);
afterAll(async () => {
  await closeAllPeople();
  await stopAllInProcessNodes();
});

/** Every CSP violation the page reports, as `directive blocked-uri`. */
async function recordViolations(person: Person): Promise<string[]> {
  const violations: string[] = [];
  await person.page.exposeFunction('reportViolation', (text: string) => violations.push(text));
  await person.context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { reportViolation(text: string): void }).reportViolation(`${event.effectiveDirective} ${event.blockedURI}`);
    });
  });
  return violations;
}

/** Tries what an injected script would: run inline code, and reach another host. */
async function tryInjection(page: Page): Promise<{ inlineRan: boolean; fetchedOut: boolean }> {
  return page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.append(script);
    let fetchedOut = true;
    await fetch('http://127.0.0.2:9/steal').catch(() => (fetchedOut = false));
    return { inlineRan: (window as unknown as { __injected?: boolean }).__injected === true, fetchedOut };
  });
}

describe('the web chat under its CSP', () => {
  it('signs in and sends without a violation; inline script and foreign connections are refused', async () => {
    const person = await openPerson({ allowedOrigins: [node.url] });
    const violations = await recordViolations(person);
    const { page } = person;
    await page.goto(`${node.url}/`);
    await page.getByLabel('Your name').fill('ada');
    await page.getByRole('button', { name: 'Start chatting' }).click();
    await expect.poll(() => page.getByTestId('me').textContent()).toBe('ada');
    await page.getByLabel('Room name').fill('csp');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: '# csp' }).waitFor();
    await page.getByLabel('Message').fill('hello under a policy');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('message-body').allTextContents(), { timeout: 15_000 }).toContain('hello under a policy');
    expect(violations).toEqual([]);

    expect(await tryInjection(page)).toEqual({ inlineRan: false, fetchedOut: false });
    await expect.poll(() => violations.join('\n')).toMatch(/script-src-elem inline/);
    expect(violations.join('\n')).toMatch(/connect-src http:\/\/127\.0\.0\.2/);
  });
});

describe('GraphiQL under its CSP', () => {
  it('loads and runs an operation without a violation; inline script is refused', async () => {
    const person = await openPerson({ allowedOrigins: [node.url] });
    const violations = await recordViolations(person);
    const { page } = person;
    await person.context.addInitScript(() => localStorage.setItem('graphiql:query', '{ __typename }'));
    await page.goto(`${node.url}/graphql`);
    await page.getByRole('button', { name: /Execute query/ }).click();
    await expect.poll(async () => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' '), { timeout: 20_000 }).toContain('"Query"');
    expect(violations).toEqual([]);
    expect((await tryInjection(page)).inlineRan).toBe(false);
  });
});

describe('framing', () => {
  let framer: Server;
  afterAll(() => framer?.close());

  it('another site cannot show the chat or GraphiQL in a frame', async () => {
    // A page of "another site" (another port is another origin) that frames both.
    framer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<iframe id="chat" src="${node.url}/"></iframe><iframe id="graphiql" src="${node.url}/graphql"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    const framerUrl = `http://127.0.0.1:${(framer.address() as AddressInfo).port}`;
    const person = await openPerson({ allowedOrigins: [node.url, framerUrl] });
    // `load` waits for both frames too; a refused frame holds an error page, not the node's document.
    await person.page.goto(framerUrl, { waitUntil: 'load' });
    expect(person.page.frames()).toHaveLength(3);
    for (const frame of person.page.frames().slice(1)) {
      const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      expect(text).not.toContain('Start chatting');
      expect(await frame.evaluate(() => document.getElementById('root') !== null).catch(() => false)).toBe(false);
    }
  });
});
