/**
 * README.md's walkthrough, run as written: every ```sh block of the section
 * "Walkthrough: a hospital joins, an institute runs a job", in order, in one
 * bash (with job control, as an interactive shell has, so its `kill %1`
 * stops the gateway's process group), in a fresh folder holding the
 * checkout's package.json, dist/ and node_modules/ (what `npm run tds`
 * needs), against the service as a separate process started as the README
 * says (`TDS_DEV_MODE=true`, data directory ./.tds of that folder).
 *
 * What differs from a person's terminal, and only this:
 * - the ports: 8080 and 8443 become free ones (the README's text is checked
 *   to name them, so a changed README fails here instead of silently passing);
 * - the one interactive step: `tds contract sign` asks `sign as ...? [y/N]`
 *   on a terminal; here (no terminal) each such line gets `--yes`, which is
 *   what a person answering `y` does;
 * - the database is the test server's (DATABASE_URL) instead of the embedded
 *   one `npm start` starts without it (test/crash/second-start covers that).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/context.js';
import { freePort } from '../../src/db/embedded-postgres.js';
import { runToExit, startService, stopService, type ServiceProcess } from './service-process.js';

const SECTION = '## Walkthrough: a hospital joins, an institute runs a job';

/** The ```sh blocks of the walkthrough section, in order. */
function walkthroughBlocks(readme: string): string[] {
  const start = readme.indexOf(SECTION);
  if (start === -1) throw new Error(`README.md has no section "${SECTION}"`);
  const end = readme.indexOf('\n## ', start + SECTION.length);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

let svc: ServiceProcess | undefined;
let dir: string;

afterAll(async () => {
  if (svc) await stopService(svc);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('the README walkthrough runs as written: join, approve, gateway, publish, offer, contract, job, report, revoke', async () => {
  const blocks = walkthroughBlocks(fs.readFileSync('README.md', 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  let script = blocks.join('\n');
  const [port, gatewayPort] = [await freePort(), await freePort()];
  const count = (re: RegExp) => (script.match(re) ?? []).length;
  expect(count(/localhost:8080/g)).toBe(1);
  expect(count(/8443/g)).toBeGreaterThanOrEqual(2);
  const signLines = /^(tds contract sign [^#\n]*?)\s*$/gm;
  expect(count(signLines)).toBe(2);
  script = script.replace(/localhost:8080/g, `localhost:${port}`).replace(/8443/g, String(gatewayPort)).replace(signLines, '$1 --yes');

  // A fresh folder where `npm run tds` finds the checkout's build; the service's data directory is its ./.tds.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-readme-'));
  for (const f of ['package.json', 'dist', 'node_modules']) fs.symlinkSync(path.resolve(f), path.join(dir, f));
  svc = await startService({ DATABASE_URL: await createTestDatabase(), TDS_DATA_DIR: path.join(dir, '.tds'), TDS_DEV_MODE: 'true' }, port);

  // Whatever happens, no background job outlives the script.
  const prologue = "set -euo pipefail -m\ntrap 'for j in $(jobs -p); do kill -- -$j 2>/dev/null || true; done' EXIT\n";
  const result = await runToExit('bash', ['-c', prologue + script], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' } }, 110_000);
  const shown = `${result.out}\n--- service:\n${svc.output()}`;
  expect({ code: result.code, out: shown }).toEqual({ code: 0, out: shown });

  // Each party's step said what the README says it does.
  for (const text of [
    'an operator must approve this participant before it can act',
    'approve with: tds approve <participant>',
    `gateway serving gateway-data on https://127.0.0.1:${gatewayPort}`,
    'signed as consumer; state: consumer_signed',
    'sign with: tds contract sign <contract>',
    'signed as provider; state: active',
    'OK: no violations in 1 contract(s), 1 release(s)',
    'state now: revoked: no longer in force',
    'revocation reason: trial finished',
  ]) expect(result.out).toContain(text);
  expect(result.out).toMatch(/Heart failure cohort +cardiology +raw +St\. Mary Hospital/);
  expect(result.out).toMatch(/^downloaded \d+ bytes, sha256 [0-9a-f]{64} verified$/m);
  expect(result.out.match(/^[0-9a-f-]{36}: active$/gm)).toHaveLength(3);
  expect(fs.readFileSync(path.join(dir, 'cohort-copy.csv'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'gateway-data', 'cohort.csv'), 'utf8'));
  // The gateway is gone (the README's `kill %1`, or else the trap), nothing left listening. A signal
  // is asynchronous: bash returns once it is sent, the gateway closes its socket a moment later.
  const probe = () =>
    new Promise<string>((resolve) => {
      const socket = net.connect(gatewayPort, '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  let refused = await probe();
  for (let i = 0; i < 100 && refused === 'connected'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    refused = await probe();
  }
  expect(refused).toBe('ECONNREFUSED');
}, 150_000);
