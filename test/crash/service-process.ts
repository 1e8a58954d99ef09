/**
 * The real service as a separate OS process (the built dist/src/main.js),
 * plus a small fetch client that signs every request: what the crash and
 * outage tests drive from outside.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/db/embedded-postgres.js';
import { signRequestToken, type Signer } from '../../src/client/request-token.js';
import { generateKeyPair, privateJwkOf, thumbprintOf } from '../../src/crypto/ed25519.js';
import { secretKeyFromJwk, sign } from '../../src/crypto/ed25519.js';
import { toBase64Url, utf8 } from '../../src/crypto/sha256.js';

/** A running service process. */
export interface ServiceProcess {
  base: string;
  port: number;
  child: ChildProcess;
  output: () => string;
}

/** Start dist/src/main.js (or another build's `main`, e.g. an installed package's) with this environment and wait until /readyz answers 200. */
export async function startService(env: Record<string, string>, port?: number, main = path.resolve('dist/src/main.js')): Promise<ServiceProcess> {
  const p = port ?? (await freePort());
  let out = '';
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: String(p), TDS_DEV_MODE: 'true', LOG_LEVEL: 'warn', TDS_REGISTRATIONS_PER_MINUTE_PER_ADDRESS: '1000000', TDS_REGISTRATIONS_PER_MINUTE: '1000000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const base = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}): ${out}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, port: p, child, output: () => out };
}

/** Stop a service process: SIGKILL (crash) or SIGTERM (clean); resolves when it has exited. */
export async function stopService(s: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill(signal);
  await exited;
}

/** A signed JSON call; resolves to status and parsed body (never throws on HTTP errors). */
export async function call(base: string, signer: Signer, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = await signRequestToken(signer, method, p);
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

/** The operator's signer, from operator.json in a data directory. */
export function operatorOf(dataDir: string): Signer {
  const c = JSON.parse(fs.readFileSync(path.join(dataDir, 'operator.json'), 'utf8')) as { id: string; kid: string; privateJwk: Signer['privateJwk'] };
  return { iss: c.id, kid: c.kid, privateJwk: c.privateJwk };
}

/** Register and approve a participant over HTTP. */
export async function newParticipant(base: string, operator: Signer, roles: string[]): Promise<Signer> {
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  const kid = await thumbprintOf(privateJwk);
  const reg = await call(base, { iss: kid, kid, privateJwk }, 'POST', '/v1/participants', { name: roles.join('+'), roles, publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x } });
  if (reg.status !== 201) throw new Error(`register: ${JSON.stringify(reg)}`);
  const id = reg.body.id as string;
  const ok = await call(base, operator, 'POST', `/v1/participants/${id}/approve`);
  if (ok.status !== 200) throw new Error(`approve: ${JSON.stringify(ok)}`);
  return { iss: id, kid, privateJwk };
}

/** Publish a dataset and offer, propose and sign a contract; returns the contract id. */
export async function newContract(base: string, provider: Signer, consumer: Signer, maxInvocations: number): Promise<string> {
  const d = await call(base, provider, 'POST', '/v1/datasets', {
    title: 'Crash-test cohort', description: '', researchField: 'oncology', kind: 'raw',
    distribution: { url: 'https://data.hospital.example/c.csv', sha256: 'a'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
  });
  const o = await call(base, provider, 'POST', `/v1/datasets/${d.body.id as string}/offers`, { purposes: ['DUO:0000006'], maxInvocations, access: 'download' });
  const c = await call(base, consumer, 'POST', '/v1/contracts', { offerId: o.body.id, purposes: ['DUO:0000006'], maxInvocations });
  if (c.status !== 201) throw new Error(`propose: ${JSON.stringify(c)}`);
  for (const s of [consumer, provider]) {
    const sig = toBase64Url(sign(utf8(c.body.canonical as string), secretKeyFromJwk(s.privateJwk)));
    const r = await call(base, s, 'POST', `/v1/contracts/${c.body.id as string}/signatures`, { kid: s.kid, signature: sig });
    if (r.status !== 200) throw new Error(`sign: ${JSON.stringify(r)}`);
  }
  return c.body.id as string;
}

/** Run a command to its exit (killed after timeoutMs); its exit code and its stdout and stderr interleaved. */
export function runToExit(command: string, args: string[], options: SpawnOptions, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
