/**
 * Refusals with a usual cause say it: a loopback dataset URL outside
 * development mode names TDS_DEV_MODE=true, an unknown role lists the allowed
 * ones, a self-signed service certificate points at --ca FILE, a job request
 * whose connection failed names the Idempotency-Key to retry with, and an
 * unreadable --state file is named. The service runs WITHOUT development
 * mode here, over HTTPS with a self-signed certificate.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../helpers/loopback.js';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { datasetBody } from '../helpers/scenario.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { runTds } from '../../src/cli/tds.js';

let ctx: TestContext;
let server: https.Server;
let serviceUrl: string;
let tmp: string;
let certFile: string;
let provider: Actor;
let operatorFile: string;

beforeAll(async () => {
  ctx = await createTestContext({ TDS_DEV_MODE: 'false' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-error-guidance-'));
  const pems = selfSignedCertificate(tmp);
  certFile = pems.certFile;
  server = https.createServer({ cert: fs.readFileSync(pems.certFile), key: fs.readFileSync(pems.keyFile) }, ctx.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serviceUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = await makeParticipant(ctx, ['provider']);
  operatorFile = path.join(ctx.dataDir, 'operator.json');
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function tds(keyFile: string, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTds(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env: { TDS_URL: serviceUrl, TDS_KEY: keyFile, TDS_AUDIENCE: ctx.config.audience, ...env } });
  return { code, out, err };
}

describe('refusals name their usual cause', () => {
  it('a loopback or plain-http dataset URL outside development mode mentions TDS_DEV_MODE=true, and writes nothing', async () => {
    for (const url of ['https://127.0.0.1:8443/cohort.csv', 'https://localhost/cohort.csv', 'http://data.hospital.example/cohort.csv', 'https://10.1.2.3/cohort.csv']) {
      const before = await snapshotCounts(ctx.ds);
      const res = await signed(ctx.app, provider, 'post', '/v1/datasets', datasetBody({ distribution: { ...(datasetBody().distribution as object), url } }));
      expect({ url, status: res.status, code: res.body.code }).toEqual({ url, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.detail).toMatch(/^distribution\.url refused: .*; for local trials the operator can start the service with TDS_DEV_MODE=true \(never in production\)$/);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
    // A problem development mode would not fix gets no such hint.
    const creds = await signed(ctx.app, provider, 'post', '/v1/datasets', datasetBody({ distribution: { ...(datasetBody().distribution as object), url: 'https://user:pw@data.hospital.example/x.csv' } }));
    expect(creds.body.detail).not.toMatch(/TDS_DEV_MODE/);
  });

  it('an unknown role lists the allowed roles, through the API and the CLI', async () => {
    const key = path.join(tmp, 'role.json');
    expect((await tds(key, ['keygen', '--out', key])).code).toBe(0);
    const r = await tds(key, ['--ca', certFile, 'register', '--name', 'Clinic', '--roles', 'hospital']);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^tds: VALIDATION_FAILED: .*\/roles\/0 must be one of: provider, consumer, auditor, reviewer/);
    const q = await signed(ctx.app, provider, 'get', '/v1/participants?role=hospital');
    expect(q.status).toBe(400);
    expect(q.body.detail).toContain('must be one of: operator, provider, consumer, auditor, reviewer');
  });
});

describe('CLI network errors carry a hint', () => {
  it('a self-signed service certificate: hint --ca FILE; with --ca FILE (or TDS_CA) the same command works', async () => {
    const without = await tds(operatorFile, ['rule', 'list']);
    expect(without.code).toBe(1);
    expect(without.err[0]).toMatch(new RegExp(`^tds: cannot reach ${serviceUrl}: \\S+ \\(.*pass the server's CA or its self-signed certificate with --ca FILE \\(or TDS_CA=FILE\\)\\)$`));
    expect(await tds(operatorFile, ['--ca', certFile, 'rule', 'list'])).toMatchObject({ code: 0, out: ['no reciprocity rules'] });
    expect(await tds(operatorFile, ['rule', 'list'], { TDS_CA: certFile })).toMatchObject({ code: 0, out: ['no reciprocity rules'] });
    expect((await tds(operatorFile, ['--ca', path.join(tmp, 'missing.pem'), 'rule', 'list'])).err[0]).toMatch(/cannot read the CA file .*missing\.pem \(--ca \/ TDS_CA\): ENOENT/);
  });

  it('a job request whose connection was refused or dropped names the Idempotency-Key to retry with', async () => {
    const consumerKey = path.join(tmp, 'consumer.json');
    await tds(consumerKey, ['keygen', '--out', consumerKey]);
    expect((await tds(consumerKey, ['--ca', certFile, 'register', '--name', 'Institute', '--roles', 'consumer'])).code).toBe(0);
    const id = (JSON.parse(fs.readFileSync(consumerKey, 'utf8')) as { id: string }).id;

    // Dropped: a server that closes every connection as soon as a request arrives.
    const dropping = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const dropUrl = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`;
    // Refused: a port nothing listens on.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    try {
      const contract = '6f1c2a4e-0000-4000-8000-000000000001';
      for (const url of [dropUrl, deadUrl]) {
        const given = await tds(consumerKey, ['--service', url, 'job', 'run', '--contract', contract, '--purpose', 'DUO:0000042', '--idempotency-key', 'run-2026-12-01', '--', 'true']);
        expect({ url, code: given.code }).toEqual({ url, code: 1 });
        expect(given.err[0]).toMatch(/\(.*retry with the same --idempotency-key run-2026-12-01: if the service received the request, it returns the same job and uses no further invocation\)$/);
        // Without --idempotency-key the client made one up, and says which.
        const made = await tds(consumerKey, ['--service', url, 'job', 'run', '--contract', contract, '--purpose', 'DUO:0000042', '--', 'true']);
        expect(made.err[0]).toMatch(/retry with the same --idempotency-key tds-[0-9a-f-]{36}: /);
      }
      // Other calls that change state: a dropped connection says to check before retrying; a refused one needs no such warning.
      const client = new TdsClient({ baseUrl: dropUrl, audience: ctx.config.audience, credentials: { ...(JSON.parse(fs.readFileSync(consumerKey, 'utf8')) as { kid: string; privateJwk: never }), id } });
      await expect(client.proposeContract({ offerId: contract, purposes: ['DUO:0000042'], maxInvocations: 1 })).rejects.toThrow(/the service may have received the request: check its effect before you retry/);
    } finally {
      dropping.closeAllConnections();
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});

describe('a --state file that cannot be read is named', () => {
  it('verify, monitor and witness name the file', async () => {
    const logKey = (await new TdsClient({ baseUrl: serviceUrl, audience: ctx.config.audience, credentials: JSON.parse(fs.readFileSync(operatorFile, 'utf8')) as never, ca: fs.readFileSync(certFile, 'utf8') }).getText('/v1/ledger/key')).trim();
    const bad = path.join(tmp, 'bad-state.json');
    fs.writeFileSync(bad, '{"size": 3, "rootHash": ');
    const v = await tds(operatorFile, ['--ca', certFile, 'verify', '--log-key', logKey, '--state', bad]);
    expect(v.code).toBe(1);
    expect([...v.out, ...v.err].join('\n')).toContain(`state file ${bad} (--state) is not JSON`);
    const m = await tds(operatorFile, ['--ca', certFile, 'monitor', '--log-key', logKey, '--state', bad, '--once']);
    expect(m.code).not.toBe(0);
    expect(m.err.join('\n')).toContain(`state file ${bad} is malformed`);

    const witnessKey = path.join(tmp, 'witness.json');
    await tds(witnessKey, ['keygen', '--out', witnessKey]);
    const dir = path.join(tmp, 'witness-state');
    fs.mkdirSync(dir);
    const file = path.join(dir, `${'ab'.repeat(32)}.json`);
    fs.writeFileSync(file, 'not json');
    const w = await tds(witnessKey, ['witness', '--name', 'witness.example/w1', '--key', witnessKey, '--state', dir, '--log-key', logKey, '--port', '0', '--host', '127.0.0.1']);
    expect(w.code).toBe(1);
    expect(w.err.join('\n')).toContain(`witness state file ${file} (--state) is not JSON`);
  });
});
