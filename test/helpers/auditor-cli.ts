/**
 * What the auditor's CLI tests (`tds verify`, `tds report`) run against: the
 * app listening on loopback, a temp folder holding the auditor's key file as
 * the CLI writes it, and the ledger's verifier key; plus running `tds` in
 * process with its output captured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { runTds } from '../../src/cli/tds.js';
import type { TestContext } from './context.js';
import type { Actor } from './actors.js';

/** The live service and the auditor's files. */
export interface AuditorCli {
  server: Server;
  /** The service's base URL (--service). */
  service: string;
  dir: string;
  /** The auditor's credentials file (--key). */
  keyFile: string;
  /** The ledger's note verifier key (--log-key). */
  logKey: string;
}

/** Listen on a loopback port and write the auditor's key file into a fresh temp folder named after `prefix`. */
export async function auditorCli(ctx: TestContext, auditor: Actor, prefix: string): Promise<AuditorCli> {
  const server = ctx.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const service = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const keyFile = path.join(dir, 'auditor.json');
  fs.writeFileSync(keyFile, JSON.stringify({ id: auditor.id, kid: auditor.kid, privateJwk: auditor.privateJwk }), { mode: 0o600 });
  return { server, service, dir, keyFile, logKey: ctx.services.ledger.verifierKey() };
}

/** Stop listening and remove the temp folder. */
export async function closeAuditorCli(a: AuditorCli): Promise<void> {
  await new Promise((resolve) => a.server.close(resolve));
  fs.rmSync(a.dir, { recursive: true, force: true });
}

/** Run `tds args` with no environment defaults; progress lines (when asked for) go to err too. */
export async function runCli(args: string[], opts: { progress?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTds(args, {
    out: (s) => void out.push(s), err: (s) => void err.push(s), isTTY: false, prompt: async () => '', env: {},
    ...(opts.progress ? { progress: (s: string) => void err.push(s) } : {}),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
