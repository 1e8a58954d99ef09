/**
 * `tds node` start-up (the built CLI as a separate process): without
 * bubblewrap on PATH it refuses to start and says why; with
 * --unsafe-no-sandbox it starts and says loudly, on stderr and in its log,
 * that analyses are not confined.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, privateJwkOf, thumbprintOf } from '../../src/crypto/ed25519.js';

let tmp: string;
let bin: string;
let keyFile: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-node-cli-'));
  // A PATH with the tools tds node needs except bwrap.
  bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['sh', 'ldd', 'prlimit']) {
    const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (where) fs.symlinkSync(where, path.join(bin, tool));
  }
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  keyFile = path.join(tmp, 'hospital.json');
  fs.writeFileSync(keyFile, JSON.stringify({ id: '00000000-0000-4000-8000-000000000009', kid: await thumbprintOf(privateJwk), privateJwk }), { mode: 0o600 });
  fs.mkdirSync(path.join(tmp, 'data'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const args = () => [path.resolve('dist/src/cli/tds.js'), 'node', '--key', keyFile, '--dir', path.join(tmp, 'data'), '--service', 'http://127.0.0.1:9', '--interval', '0.2'];

test('without bwrap the node refuses to start', () => {
  const r = spawnSync(process.execPath, args(), { encoding: 'utf8', env: { PATH: bin }, timeout: 30_000 });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/sandbox is not available \(bwrap not found\); refusing to start/);
  expect(r.stderr).toMatch(/--unsafe-no-sandbox/);
});

test('with --unsafe-no-sandbox it starts and says so on stderr and in its log', async () => {
  const child = spawn(process.execPath, [...args(), '--unsafe-no-sandbox'], { env: { PATH: bin }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const deadline = Date.now() + 30_000;
  while (!/backing off/.test(err) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  expect(err).toMatch(/tds node: UNSAFE: --unsafe-no-sandbox given/);
  expect(err).toMatch(/"unsafe":true/);
  expect(err).toMatch(/"sandbox":false/);
  // The service is unreachable: the node keeps trying instead of exiting.
  expect(err).toMatch(/service call failed; backing off/);
});
