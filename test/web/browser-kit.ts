import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHerald, type TestHerald } from '../helpers/harness.ts';

/**
 * Browser tests drive Debian's Chromium (never a downloaded browser) through playwright-core,
 * against a real Herald listening on a loopback port with a fresh SQLite database.
 */
export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** docs/screenshots locally (committed, linked from docs/web-ui.md); a temporary folder in CI. */
export const SCREENSHOTS = process.env.CI ? path.join(tmpdir(), 'herald-screenshots') : path.resolve('docs/screenshots');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface WebRig {
  t: TestHerald;
  base: string;
  browser: Browser;
  /** A fresh browser profile (its own cookies), with page errors collected. */
  newPage(): Promise<Page>;
  pageErrors: string[];
  shot(page: Page, name: string, fullPage?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startWebRig(): Promise<WebRig> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await startHerald('sqlite', { env: { HERALD_PUBLIC_URL: base } });
  await t.herald.app!.listen({ port, host: '127.0.0.1' });
  // launch() gives Chromium a fresh temporary profile (user-data-dir) and deletes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    t, base, browser, pageErrors,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, baseURL: base, locale: 'en-US' });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(m.text()); });
      return page;
    },
    async shot(page, name, fullPage = false) {
      // From the top, without the transient toasts, so the pictures show the page itself.
      await page.evaluate(() => {
        document.getElementById('toasts')?.replaceChildren();
        window.scrollTo(0, 0);
      });
      await page.waitForTimeout(50);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage, animations: 'disabled', caret: 'hide' });
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await t.close();
    },
  };
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Clicks the confirm button of the open <dialog>. */
export async function confirm(page: Page, label: string): Promise<void> {
  await page.locator('dialog[open]').getByRole('button', { name: label, exact: true }).click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

/** A value for <input type="datetime-local"> in this machine's (and the browser's) time zone. */
export function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Calls the API from inside the page, with its session cookie (as the UI does). */
export async function apiFromPage(page: Page, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(async ([m, u, b]) => {
    const res = await fetch(u as string, { method: m as string, headers: { 'X-Herald-CSRF': '1', ...(b !== undefined ? { 'Content-Type': 'application/json' } : {}) }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) };
  }, [method, url, body] as const);
}
