/**
 * Browser tests: Debian's chromium driven by playwright-core (no downloaded browser), headless,
 * one fresh profile per simulated person, and the network limited to the nodes under test: every
 * request elsewhere is refused and recorded, and a test fails if there is any.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './nodeProcess.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const artifactsDir = join(repoRoot, 'test-artifacts');

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
  // Belt and braces: the browser cannot even resolve a name other than the loopback address.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Builds client/web/dist if it is missing or stale (the nodes serve it at `/`). */
export function ensureWebBuilt(): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'client/web/ensureBuilt.ts'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Requests that tried to leave 127.0.0.1 (each was refused). */
  outside: string[];
  close(): Promise<void>;
}

export interface PersonOptions {
  viewport?: { width: number; height: number };
  /** Pages may talk to these origins only (`http://127.0.0.1:PORT`). */
  allowedOrigins: string[];
}

const openContexts = new Set<Person>();

/** A person with their own browser and fresh profile (--user-data-dir), so nothing is shared. */
export async function openPerson(options: PersonOptions): Promise<Person> {
  const profile = mkdtempSync(join(tmpdir(), 'roomlog-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const outside: string[] = [];
  const allowed = new Set(options.allowedOrigins.map((origin) => new URL(origin).host));
  const isLocal = (url: string) => {
    const parsed = new URL(url);
    return parsed.protocol === 'data:' || parsed.protocol === 'blob:' || allowed.has(parsed.host);
  };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    outside.push(url);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(
    (url) => !isLocal(url.toString()),
    (ws) => {
      outside.push(ws.url());
      return ws.close({ code: 1008, reason: 'outside the test network' });
    },
  );
  const page = context.pages()[0] ?? (await context.newPage());
  const person: Person = {
    context,
    page,
    outside,
    async close() {
      openContexts.delete(person);
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
  openContexts.add(person);
  return person;
}

/** For afterAll: closes every browser a test left open. */
export async function closeAllPeople(): Promise<void> {
  await Promise.all([...openContexts].map((person) => person.close()));
}

/** Saves a screenshot under test-artifacts/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
