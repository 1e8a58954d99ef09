/**
 * The console's full ledger verification in Chromium, next to the CLI's on
 * the same entries. The page is the real console (built into dist/console,
 * served by the running service), driven as an auditor would: load the key
 * file, pin the log key, press "Verify the whole ledger"; the figure is the
 * time the page's Web Worker spends in verifyLog, as the page reports it.
 * So that both verifiers check the same N entries whatever the ledger's size,
 * the page is handed the service's own signed checkpoint at the first size
 * ≥ N (an older checkpoint, read from ledger_checkpoints) instead of the newest.
 * The CLI figure is verifyLog in this process over the same entries fetched
 * through the same API, which is what `tds verify` does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Signer } from '../src/client/request-token.js';
import { verifyLog, type ServedEntry } from '../src/ledger/verify-log.js';
import { call, TokenSigner } from './client.js';
import { connectClient } from './database.js';
import { nowMs, round } from './stats.js';

/** What the phase reports. */
export interface BrowserVerifyFigures {
  entries: number;
  ok: boolean;
  problem: string | null;
  browserVerifyMs: number;
  browserEntriesPerSecond: number;
  /** Wall time from the click to the verdict, fetching included. */
  browserTotalMs: number;
  cliVerifyMs: number;
  cliEntriesPerSecond: number;
  chromium: string;
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function checkpointAtLeast(dbUrl: string, size: number): Promise<{ size: number; note: string }> {
  const c = await connectClient(dbUrl);
  try {
    const r = await c.query<{ tree_size: string; note: string }>('SELECT tree_size::text, note FROM ledger_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1', [size]);
    if (r.rows.length !== 1) throw new Error(`no checkpoint of at least ${size} entries`);
    return { size: Number(r.rows[0].tree_size), note: r.rows[0].note };
  } finally {
    await c.end();
  }
}

async function fetchEntries(base: string, signer: TokenSigner, size: number): Promise<ServedEntry[]> {
  const out: ServedEntry[] = [];
  while (out.length < size) {
    const r = await call(base, signer, 'GET', `/v1/ledger/entries?start=${out.length}&limit=${Math.min(1000, size - out.length)}`);
    const page = r.body.entries as ServedEntry[] | undefined;
    if (r.status !== 200 || !page || page.length === 0) throw new Error(`entries from ${out.length}: HTTP ${r.status}`);
    out.push(...page);
  }
  return out;
}

/** Runs the measurement; `auditor` must be allowed to read the whole ledger (the operator is). */
export async function measureBrowserVerify(base: string, dbUrl: string, auditor: Signer, verifierKey: string, entries: number, log: (m: string) => void): Promise<BrowserVerifyFigures> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
  const cp = await checkpointAtLeast(dbUrl, entries);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-bench-browser-'));
  const keyFile = path.join(dir, 'auditor.json');
  fs.writeFileSync(keyFile, JSON.stringify({ id: auditor.iss, kid: auditor.kid, privateJwk: auditor.privateJwk }), { mode: 0o600 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const context = await browser.newContext();
    await context.route('**/v1/ledger/checkpoint', (route) => route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: cp.note }));
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    await page.locator('input[name=keyfile]').setInputFiles(keyFile);
    await page.locator('#key-status').waitFor();
    await page.evaluate(`location.hash = '#/ledger'`);
    await page.locator('#log-key').fill(verifierKey);
    await page.getByRole('button', { name: 'Pin these keys' }).click();
    await page.locator('#checkpoint-ok').waitFor({ timeout: 60_000 });
    const t0 = nowMs();
    await page.locator('#verify-all').click();
    await page.locator('#verify-ok, #verify-bad').first().waitFor({ timeout: 30 * 60_000 });
    const browserTotalMs = nowMs() - t0;
    const ok = (await page.locator('#verify-ok').count()) === 1;
    const problem = ok ? null : await page.locator('#verify-bad').textContent();
    const millis = Number(await page.locator('#verify-label').getAttribute('data-millis'));
    log(`browser verify ${cp.size}: ${round(millis, 0)} ms in the worker, ${round(browserTotalMs, 0)} ms with fetching`);

    const signer = new TokenSigner(auditor);
    const served = await fetchEntries(base, signer, cp.size);
    const t1 = nowMs();
    const cli = verifyLog({ entries: served, checkpointNote: cp.note, verifierKey });
    const cliMs = nowMs() - t1;
    if (!cli.ok) throw new Error(`the CLI's verifyLog refused the same entries: ${cli.problem}`);
    log(`CLI verifyLog ${cp.size}: ${round(cliMs, 0)} ms`);
    return {
      entries: cp.size,
      ok,
      problem,
      browserVerifyMs: round(millis, 1),
      browserEntriesPerSecond: Math.round(cp.size / (millis / 1000)),
      browserTotalMs: round(browserTotalMs, 0),
      cliVerifyMs: round(cliMs, 1),
      cliEntriesPerSecond: Math.round(cp.size / (cliMs / 1000)),
      chromium: browser.version(),
    };
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
