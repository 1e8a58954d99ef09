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
