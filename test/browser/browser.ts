/**
 * Chromium for the console tests: Debian's /usr/bin/chromium driven by
 * playwright-core, one fresh browser context (no shared storage) per actor,
 * and every request the pages make recorded so a test can prove what left
 * the browser.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestContext, type TestContext } from '../helpers/context.js';

/** One request as it left the browser. */
export interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** The executable: CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launch headless Chromium with the flags CI needs. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A fresh context and page whose requests are appended to `sent`; console errors are collected too. */
export async function actorPage(browser: Browser, sent: Sent[], errors: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on('request', (req) => {
    sent.push({ url: req.url(), method: req.method(), headers: req.headers(), body: req.postData() ?? '' });
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { context, page };
}

/** Where the tests write screenshots (gitignored). */
export const SHOTS = path.resolve('test-results/console');

/** A full-page screenshot under SHOTS. */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A small screenshot of the visible part at 900×700 CSS pixels (what the README shows), under SHOTS as readme-NAME.png. */
export async function smallShot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const before = page.viewportSize();
  await page.setViewportSize({ width: 900, height: 700 });
  await page.screenshot({ path: path.join(SHOTS, `readme-${name}.png`), scale: 'css' });
  if (before) await page.setViewportSize(before);
}

/** Write a key file as the CLI does ({id, kid, privateJwk}) and return its path. */
export function writeKeyFile(dir: string, name: string, actor: { iss: string; kid: string; privateJwk: unknown }): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ id: actor.iss, kid: actor.kid, privateJwk: actor.privateJwk }), { mode: 0o600 });
  return file;
}

/** A temp folder for key and data files. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tds-console-'));
}

/** Open the console, load a key file and wait until the page says whose it is. */
export async function signIn(page: Page, base: string, keyFile: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.locator('input[name=keyfile]').setInputFiles(keyFile);
  await page.locator('#key-status').waitFor();
}

/** Go to a console route (hash), without reloading the page. */
export async function go(page: Page, route: string): Promise<void> {
  // A string runs in the page (whose globals the node-typed test code does not know).
  await page.evaluate(`location.hash = ${JSON.stringify(route)}`);
}

/** What every console test runs against: the service on loopback (background work on), Chromium and a temp folder. */
export interface ConsoleRig {
  ctx: TestContext;
  server: Server;
  /** The service's base URL; the console is under /console/. */
  base: string;
  browser: Browser;
  /** For key and data files; removed by stopRig. */
  dir: string;
}

/** Start the service (buildApp with the sequencer making checkpoints) on a loopback port, a temp folder and Chromium. */
export async function startRig(): Promise<ConsoleRig> {
  const ctx = await createTestContext({}, { background: true });
  const server = ctx.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ctx, server, base, dir: tempDir(), browser: await launch() };
}

/** Close what startRig started (whatever of it did start), and remove the temp folder. */
export async function stopRig(rig: Partial<ConsoleRig> | undefined): Promise<void> {
  await rig?.browser?.close();
  await new Promise((resolve) => (rig?.server ? rig.server.close(resolve) : resolve(undefined)));
  await rig?.ctx?.close();
  if (rig?.dir) fs.rmSync(rig.dir, { recursive: true, force: true });
}

/** The text of the first element matching selector ('' when it has none). */
export const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

/**
 * How wide the page is at its current viewport: the document's scrollWidth
 * and, to say what to fix when it is too wide, the innermost elements whose
 * right edge passes the viewport (unless an ancestor that fits clips them).
 */
export async function pageWidth(page: Page): Promise<{ scrollWidth: number; viewport: number; wide: string[] }> {
  return page.evaluate(`(() => {
    const vw = document.documentElement.clientWidth;
    // Clipped by an ancestor that itself fits (a visually hidden table head, a scroller): not wider for the reader.
    const clipped = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= vw + 0.5) return true;
      }
      return false;
    };
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > vw + 0.5 && ![...el.children].some((c) => c.getBoundingClientRect().right > vw + 0.5) && !clipped(el))
      .slice(0, 10)
      .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right ' + Math.round(el.getBoundingClientRect().right) + ': ' + (el.textContent || '').slice(0, 60));
    const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right ' + Math.round(el.getBoundingClientRect().right) + ': ' + (el.textContent || '').slice(0, 60);
    // Too wide, but by nothing visible: name the outermost elements that pass the edge.
    if (wide.length === 0 && document.documentElement.scrollWidth > vw) {
      wide.push(...[...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > vw + 0.5 && el.parentElement.getBoundingClientRect().right <= vw + 0.5).slice(0, 10).map((el) => 'outermost ' + describe(el)));
      // Text (or generated content) running out of a box that itself fits.
      const spills = (el) => el.getBoundingClientRect().left + el.scrollWidth > vw + 0.5 && !clipped(el);
      wide.push(...[...document.querySelectorAll('body *')].filter((el) => spills(el) && ![...el.children].some(spills)).slice(0, 10).map((el) => 'text of ' + describe(el)));
    }
    return { scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth, wide };
  })()`);
}

/**
 * The words inside table cells under `selector` that the layout split across
 * lines (a word drawn on more than one line box; a hyphen, dash or slash may
 * end a line). Identifiers and digests, set in code, may break anywhere and
 * are not counted.
 */
export async function brokenWords(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`(() => {
    const broken = [];
    for (const td of document.querySelectorAll(${JSON.stringify(selector)} + ' td, ' + ${JSON.stringify(selector)} + ' th')) {
      const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest('code, .mono')) continue;
        // Words: a hyphen, dash or slash is a place a line may end.
        const re = /[^\\s\\-\u2013\u2014/]+/g;
        for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
          const range = document.createRange();
          range.setStart(n, m.index);
          range.setEnd(n, m.index + m[0].length);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (tops.size > 1) broken.push(m[0]);
        }
      }
    }
    return broken;
  })()`);
}
