/**
 * A second start on a running service's port or data directory (a second
 * `npm start` in another terminal) refuses in one line and leaves the first
 * service, and its embedded PostgreSQL, untouched; it used to stop the first
 * one's database as an "orphan", fail on the port with a stack trace, and
 * leave its own database server running. After a clean stop the data
 * directory starts again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded-postgres.js';
import { call, operatorOf, runToExit, startService, stopService, type ServiceProcess } from './service-process.js';

/** Run dist/src/main.js until it exits; exit code and output. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return runToExit(process.execPath, [path.resolve('dist/src/main.js')], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } }, 60_000);
}

let first: ServiceProcess | undefined;
let dataDir: string;
afterAll(async () => {
  if (first) await stopService(first);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('refuses a second start on the same port or data directory without touching the running service', async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-second-start-'));
  // Embedded PostgreSQL (no DATABASE_URL), as `npm start` runs it.
  const env = { DATABASE_URL: '', TDS_DATA_DIR: dataDir, HOST: '127.0.0.1' };
  first = await startService(env);
  const operator = operatorOf(dataDir);
  const alive = async () => {
    expect((await fetch(`${first!.base}/readyz`)).status).toBe(200);
    expect((await call(first!.base, operator, 'GET', `/v1/participants/${operator.iss}`)).status).toBe(200);
  };
  await alive();
  const pgPid = fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0];

  const samePort = await runMain({ ...env, PORT: String(first.port) });
  expect(samePort.code).toBe(1);
  expect(samePort.out.trim()).toBe(`tds: cannot start: port ${first.port} is already in use on 127.0.0.1 (is tds already running? stop it, or set PORT)`);

  const sameDir = await runMain({ ...env, PORT: String(await freePort()) });
  expect(sameDir.code).toBe(1);
  expect(sameDir.out.trim()).toMatch(new RegExp(`^tds: cannot start: the data directory ${dataDir} is in use by another tds process \\(pid ${first.child.pid}\\)`));

  // The first service still has its database, the same server as before.
  await alive();
  expect(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]).toBe(pgPid);

  // Stopped cleanly, the data directory starts again (and the operator is the same).
  await stopService(first);
  expect(fs.existsSync(path.join(dataDir, 'pg-owner.pid'))).toBe(false);
  first = await startService(env);
  expect(operatorOf(dataDir).iss).toBe(operator.iss);
  await alive();
});
