/**
 * End to end on loopback: the real service on a listening HTTP server, the
 * provider's HTTPS gateway with a certificate made here by openssl, and the
 * CLI pieces (contract sign/verify, job run, standing) talking to both. The
 * dispatcher itself, key files included, is in cli-commands.api.test.ts.
 */
import { listenOnLoopback, selfSignedCertificate } from '../helpers/loopback.js';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JSONWebKeySet } from 'jose';
import { pino } from 'pino';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, newKey, publicOf, signed, type Actor } from '../helpers/actors.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { RELEASE_TOKEN_TYPE, signReleaseToken } from '../../src/jobs/release-token.js';
import { startGateway, type Gateway } from '../../src/gateway/gateway.js';
import { runJob, EXIT_INTEGRITY } from '../../src/cli/job-runner.js';
import { signCanonical, signContractCommand, verifyContractCommand } from '../../src/cli/contract-commands.js';
import { standingCommand } from '../../src/cli/participant-commands.js';
import type { CliIo } from '../../src/cli/cli-args.js';
import { verifyReceipt } from '../../src/ledger/tlog-proof.js';
import { parseVerifierKey } from '../../src/ledger/checkpoint.js';

const PURPOSE = 'DUO:0000042';
const silent = pino({ level: 'silent' });
let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let served: string;
let cert: string;
let gateway: Gateway;
let cohortContract: string;
let hospital: Actor;
let institute: Actor;
let hospitalClient: TdsClient;
let instituteClient: TdsClient;

/** An io that records lines; `answer` is what a person would type at the prompt. */
function testIo(opts: { isTTY?: boolean; answer?: string } = {}): CliIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => void out_.push(l), err: (l) => void err_.push(l), isTTY: opts.isTTY ?? false, prompt: async () => opts.answer ?? '', env: {} };
}

const credsOf = (a: Actor) => ({ id: a.id, kid: a.kid, privateJwk: a.privateJwk });
const clientOf = (a: Actor) => new TdsClient({ baseUrl: serviceUrl, credentials: { id: a.id, kid: a.kid, privateJwk: a.privateJwk }, audience: ctx.config.audience });
const sha256Hex = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** GET a raw path from the gateway (no normalisation), returning status and problem code. */
function gatewayGet(rawPath: string, token?: string, gw: Gateway = gateway): Promise<{ status: number; code?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: gw.port, path: rawPath, method: 'GET', ca: cert, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try {
          code = (JSON.parse(body) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode!, code, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A release token signed by the service's key, for the gateway checks (claims overridable). */
function releaseToken(file: string, over: Partial<{ provider: string; url: string }> = {}) {
  return signReleaseToken(ctx.keys.release, ctx.config.audience, {
    job: randomUUID(), contract: randomUUID(), dataset: randomUUID(), sha256: '0'.repeat(64), provider: over.provider ?? hospital.id, url: over.url ?? `${gateway.url}/${file}`,
  });
}

/** A real release (a job the service authorized) on a contract: the gateway confirms it with the service before serving. */
async function realRelease(contractId: string): Promise<{ token: string }> {
  const job = await instituteClient.createJob({ contractId, purpose: PURPOSE });
  return { token: job.release.token! };
}

/** The hospital publishes `file` from the gateway folder; both parties sign a contract on it through the CLI logic. */
async function publishAndContract(file: string, content: string, maxInvocations = 3): Promise<{ contractId: string; datasetId: string }> {
  fs.writeFileSync(path.join(served, file), content);
  const dataset = await hospitalClient.publishDataset({
    title: `Cohort ${file}`, description: 'test cohort', researchField: 'cardiology', kind: 'raw',
    distribution: { url: `${gateway.url}/${file}`, sha256: sha256Hex(content), byteSize: Buffer.byteLength(content), mediaType: 'text/csv' },
  });
  const offer = await hospitalClient.createOffer(dataset.id, { purposes: [PURPOSE], maxInvocations: 10, access: 'download' });
  const proposed = await instituteClient.proposeContract({ offerId: offer.id, purposes: [PURPOSE], maxInvocations });
  expect(await signContractCommand({ client: instituteClient, contractId: proposed.id, yes: true, io: testIo() })).toBe(0);
  const io = testIo();
  expect(await signContractCommand({ client: hospitalClient, contractId: proposed.id, yes: true, io })).toBe(0);
  expect(io.out_.at(-1)).toBe('signed as provider; state: active');
  return { contractId: proposed.id, datasetId: dataset.id };
}

beforeAll(async () => {
  ctx = await createTestContext({}, { background: true });
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-cli-e2e-'));
  served = path.join(tmp, 'served');
  fs.mkdirSync(served);
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside the gateway folder');
  const { certFile, keyFile } = selfSignedCertificate(tmp);
  cert = fs.readFileSync(certFile, 'utf8');
  hospital = await makeParticipant(ctx, ['provider'], 'St. Example Hospital');
  institute = await makeParticipant(ctx, ['consumer'], 'Example Research Institute');
  hospitalClient = clientOf(hospital);
  instituteClient = clientOf(institute);
  gateway = await startGateway({ dir: served, cert: certFile, key: keyFile, serviceUrl, port: 0, host: '127.0.0.1', providerId: hospital.id, credentials: credsOf(hospital), stateDir: path.join(tmp, 'gw-state'), issuer: ctx.config.audience, logger: silent });
});

afterAll(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a job from contract to ledger', () => {
  const content = 'patient_id,age\n1,54\n2,61\n';
  let contractId: string;

  beforeAll(async () => {
    ({ contractId } = await publishAndContract('cohort.csv', content, 10));
    cohortContract = contractId;
  });

  it('downloads, checks, runs the command, completes, and the gateway refuses the token again', async () => {
    const workDir = path.join(tmp, 'work-ok');
    const outDir = path.join(tmp, 'out-ok');
    fs.mkdirSync(outDir);
    const out = path.join(outDir, 'first-line.txt');
    const io = testIo();
    const firstLine = "process.stdout.write(require('fs').readFileSync(process.argv[1], 'utf8').split('\\n')[0] + '\\n')";
    const code = await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: [process.execPath, '-e', firstLine], idempotencyKey: 'run-1', ca: cert, allowPrivateAddresses: true, workDir, out, io });
    expect({ code, err: io.err_ }).toEqual({ code: 0, err: [] });
    const resultDigest = sha256Hex('patient_id,age\n');
    expect(io.out_.join('\n')).toContain(`resultDigest ${resultDigest}`);
    // The released data is deleted after the run; the output goes to --out, the receipt beside it.
    expect(fs.readdirSync(workDir)).toEqual([]);
    const files = fs.readdirSync(outDir).sort();
    expect(files.map((f) => f.replace(/^[0-9a-f-]{36}/, 'ID'))).toEqual(['ID.tlog-proof', 'first-line.txt']);
    expect(fs.readFileSync(out, 'utf8')).toBe('patient_id,age\n');
    expect(io.out_).toContain(`output: ${out} (15 bytes)`);
    const receipt = verifyReceipt(fs.readFileSync(path.join(outDir, files[0]!), 'utf8'), parseVerifierKey(ctx.services.ledger.verifierKey()), [], 0);
    expect(receipt.entry).toMatchObject({ kind: 'job.authorized', subjects: { job: files[0]!.slice(0, 36), consumer: institute.id } });
    expect(io.out_.join('\n')).toContain(`receipt: ${path.join(outDir, files[0]!)}`);

    // The same Idempotency-Key returns the same (now completed) job, and consumes nothing.
    const job = await instituteClient.createJob({ contractId, purpose: PURPOSE }, 'run-1');
    expect(job).toMatchObject({ state: 'completed', resultDigest });
    expect((await instituteClient.getContract(contractId)).invocationsUsed).toBe(1);
    await ctx.services.ledger.flush();
    const rows = (await ctx.ds.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'job.completed' AND subjects @> $1::jsonb`, [JSON.stringify({ job: job.id })])) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(1);

    const replay = await gatewayGet('/cohort.csv', job.release.token);
    expect({ status: replay.status, code: replay.code }).toEqual({ status: 401, code: 'RELEASE_TOKEN_REPLAYED' });
  });

  it('serves one token once even under concurrent requests', async () => {
    const { token } = await realRelease(contractId);
    const results = await Promise.all([1, 2, 3, 4].map(() => gatewayGet('/cohort.csv', token)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    expect(results.find((r) => r.status === 200)!.body).toBe(content);
  });

  it('refuses expired, foreign, misdirected and missing tokens', async () => {
    const key = await importJWK({ ...ctx.keys.release.privateJwk, alg: 'EdDSA' }, 'EdDSA');
    const past = Math.floor(Date.now() / 1000) - 600;
    const expired = await new SignJWT({ job: randomUUID(), contract: randomUUID(), dataset: randomUUID(), sha256: sha256Hex(content), provider: hospital.id, url: `${gateway.url}/cohort.csv` })
      .setProtectedHeader({ alg: 'EdDSA', kid: ctx.keys.release.publicJwk.kid, typ: RELEASE_TOKEN_TYPE })
      .setIssuer(ctx.config.audience).setAudience(hospital.id).setIssuedAt(past).setExpirationTime(past + 60).setJti(randomUUID())
      .sign(key);
    const forger = await newKey();
    const forged = await new SignJWT({ job: 'j', dataset: 'd', sha256: 'x', url: `${gateway.url}/cohort.csv` })
      .setProtectedHeader({ alg: 'EdDSA', kid: forger.kid, typ: RELEASE_TOKEN_TYPE })
      .setAudience(hospital.id).setIssuedAt().setExpirationTime('1m').setJti(randomUUID())
      .sign(await importJWK({ ...forger.privateJwk, alg: 'EdDSA' }, 'EdDSA'));
    const cases: Array<[string | undefined, number, string]> = [
      [expired, 401, 'RELEASE_TOKEN_EXPIRED'],
      [forged, 401, 'RELEASE_TOKEN_INVALID'],
      [(await releaseToken('cohort.csv', { provider: institute.id })).token, 401, 'RELEASE_TOKEN_INVALID'],
      [(await releaseToken('other.csv')).token, 403, 'RELEASE_TOKEN_WRONG_URL'],
      [undefined, 401, 'RELEASE_TOKEN_MISSING'],
      ['not.a.token', 401, 'RELEASE_TOKEN_INVALID'],
    ];
    for (const [token, status, code] of cases) {
      const res = await gatewayGet('/cohort.csv', token);
      expect({ status: res.status, code: res.code }).toEqual({ status, code });
    }
    const absent = await publishAndContract('absent.csv', 'gone before the download\n');
    fs.rmSync(path.join(served, 'absent.csv'));
    const missing = await gatewayGet('/absent.csv', (await realRelease(absent.contractId)).token);
    expect({ status: missing.status, code: missing.code }).toEqual({ status: 404, code: 'FILE_NOT_FOUND' });
  });

  it('refuses path traversal even with a valid token', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/sub/cohort.csv', '/.hidden']) {
      const { token } = await releaseToken('cohort.csv', { url: `${gateway.url}${p}` });
      const res = await gatewayGet(p, token);
      expect({ path: p, status: res.status, code: res.code }).toEqual({ path: p, status: 400, code: 'PATH_INVALID' });
      expect(res.body).not.toContain('outside the gateway folder');
    }
  });

  it('refreshes the JWKS once on an unknown kid, and fails closed when it cannot fetch it', async () => {
    const real = (await instituteClient.getJwks()) as JSONWebKeySet;
    let calls = 0;
    const own = { providerId: hospital.id, credentials: credsOf(hospital), issuer: ctx.config.audience };
    const gw = await startGateway({ dir: served, cert: path.join(tmp, 'cert.pem'), key: path.join(tmp, 'key.pem'), serviceUrl, port: 0, host: '127.0.0.1', logger: silent, jwksMinRefreshMs: 0,
      fetchJwks: async () => (++calls === 1 ? { keys: [] } : real), ...own, stateDir: path.join(tmp, 'gw-state-2') });
    const down = await startGateway({ dir: served, cert, key: path.join(tmp, 'key.pem'), serviceUrl, port: 0, host: '127.0.0.1', logger: silent, fetchJwks: () => Promise.reject(new Error('down')), ...own, stateDir: path.join(tmp, 'gw-state-3') });
    try {
      const ok = await gatewayGet('/cohort.csv', (await realRelease(cohortContract)).token, gw);
      expect({ status: ok.status, calls }).toEqual({ status: 200, calls: 2 });
      const unavailable = await gatewayGet('/cohort.csv', (await releaseToken('cohort.csv')).token, down);
      expect({ status: unavailable.status, code: unavailable.code }).toEqual({ status: 503, code: 'JWKS_UNAVAILABLE' });
    } finally {
      await gw.close();
      await down.close();
    }
  });
});

describe('tds job run shows the download\'s progress on a terminal', () => {
  it('reports increasing percentages of the bytes ending at 100%, and nothing without a terminal', async () => {
    const content = `${'row,value\n'}${'1234567,abcdefghij\n'.repeat(80_000)}`; // 1.5 MB: many chunks
    const { contractId } = await publishAndContract('large.csv', content, 10);
    const progress: string[] = [];
    const io = { ...testIo(), progress: (l: string) => void progress.push(l) };
    const out = path.join(tmp, 'large-copy.csv');
    const code = await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: [], ca: cert, allowPrivateAddresses: true, out, io });
    expect({ code, err: io.err_ }).toEqual({ code: 0, err: [] });
    expect(fs.readFileSync(out, 'utf8')).toBe(content);
    const size = '1.5 MB';
    expect(progress[0]).toBe(`downloading large.csv: 0% (0 B of ${size})`);
    expect(progress.at(-1)).toBe(`downloading large.csv: 100% (${size} of ${size})`);
    const pcts = progress.map((l) => Number(/: (\d+)% \(/.exec(l)![1]));
    expect(pcts.length).toBeGreaterThanOrEqual(3);
    expect(pcts.every((p, i) => i === 0 || p >= pcts[i - 1]!)).toBe(true);
    expect(pcts.filter((p) => p === 100)).toHaveLength(1);

    // Without a terminal (no progress in the io) nothing but the result lines is written.
    const quiet = testIo();
    expect(await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: [], ca: cert, allowPrivateAddresses: true, out: path.join(tmp, 'large-copy-2.csv'), io: quiet })).toBe(0);
    expect(quiet.err_).toEqual([]);
    expect(quiet.out_.some((l) => l.includes('%'))).toBe(false);
  });
});

describe('the runner saves its output and never overwrites it', () => {
  const content = 'k,v\n1,2\n';
  let contractId: string;
  beforeAll(async () => {
    ({ contractId } = await publishAndContract('outputs.csv', content, 10));
  });
  const used = async () => (await instituteClient.getContract(contractId)).invocationsUsed ?? 0;

  it('refuses an existing --out before asking for a release, and replaces it with --force', async () => {
    const out = path.join(tmp, 'existing.txt');
    fs.writeFileSync(out, 'keep me');
    const before = await used();
    await expect(runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: ['cat'], ca: cert, allowPrivateAddresses: true, out, io: testIo() })).rejects.toThrow(/exists: pass --force/);
    expect({ used: await used(), text: fs.readFileSync(out, 'utf8') }).toEqual({ used: before, text: 'keep me' });
    const io = testIo();
    expect(await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: ['cat'], ca: cert, allowPrivateAddresses: true, out, force: true, io })).toBe(0);
    expect({ used: await used(), text: fs.readFileSync(out, 'utf8') }).toEqual({ used: before + 1, text: content });
    expect(io.out_).toContain(`output: ${out} (${content.length} bytes)`);
  });

  it('without a command keeps the verified dataset itself, named after the job in the current folder by default', async () => {
    const cwd = process.cwd();
    const here = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    process.chdir(here);
    try {
      const io = testIo();
      expect(await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: [], ca: cert, allowPrivateAddresses: true, io })).toBe(0);
      const jobId = io.out_[0]!.split(' ')[1]!;
      expect(fs.readdirSync(here).sort()).toEqual([`${jobId}-outputs.csv`, `${jobId}.tlog-proof`]);
      expect(fs.readFileSync(path.join(here, `${jobId}-outputs.csv`), 'utf8')).toBe(content);
      expect(io.out_).toContain(`output: ${jobId}-outputs.csv (${content.length} bytes)`);
      expect((await instituteClient.getJob(jobId))).toMatchObject({ state: 'completed', resultDigest: sha256Hex(content) });
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('the runner checks the bytes before running anything', () => {
  it('exits 3 without running the command when the file changed after publishing', async () => {
    const original = 'id,value\n1,2\n';
    const { contractId } = await publishAndContract('tampered.csv', original);
    const marker = path.join(tmp, 'ran-marker');
    const command = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];
    const workDir = path.join(tmp, 'work-tampered');
    for (const changed of ['id,value\n1,3\n', `${original}9,9\n`]) {
      fs.writeFileSync(path.join(served, 'tampered.csv'), changed);
      const io = testIo();
      expect(await runJob({ client: instituteClient, contractId, purpose: PURPOSE, command, ca: cert, allowPrivateAddresses: true, workDir, io })).toBe(EXIT_INTEGRITY);
      expect(io.err_.join('\n')).toMatch(/integrity check failed.*\n.*command was not run/);
      expect(fs.existsSync(marker)).toBe(false);
      expect(fs.readdirSync(workDir)).toEqual([]);
      // Reported as the job's failure: it is failed, with the reason, and the invocation stays used.
      const jobId = io.out_[0]!.split(' ')[1]!;
      expect(await instituteClient.getJob(jobId)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^integrity check failed/) });
    }
  });

  it('refuses to connect to a loopback gateway outside development mode, leaving the token unused', async () => {
    const { contractId } = await publishAndContract('private.csv', 'a\n');
    const workDir = path.join(tmp, 'work-private');
    await expect(runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: ['true'], ca: cert, workDir, io: testIo(), idempotencyKey: 'private-1' }))
      .rejects.toThrow(/refusing (to connect to|the connection to) 127\.0\.0\.1.*loopback/);
    // Nothing was fetched: the same release still downloads in development mode.
    const job = await instituteClient.createJob({ contractId, purpose: PURPOSE }, 'private-1');
    expect((await gatewayGet('/private.csv', job.release.token)).status).toBe(200);
  });

  it('reports a gateway refusal as an error', async () => {
    const { contractId } = await publishAndContract('gone.csv', 'a\n');
    fs.rmSync(path.join(served, 'gone.csv'));
    const io = testIo();
    await expect(runJob({ client: instituteClient, contractId, purpose: PURPOSE, command: ['true'], ca: cert, allowPrivateAddresses: true, workDir: path.join(tmp, 'work-gone'), out: path.join(tmp, 'gone.out'), io }))
      .rejects.toThrow(/refused the download \(404\) FILE_NOT_FOUND/);
    // The gateway answered: the job is reported failed (nothing was served, so the release was never confirmed).
    const jobId = io.out_[0]!.split(' ')[1]!;
    expect(await instituteClient.getJob(jobId)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/FILE_NOT_FOUND/) });
    expect(fs.existsSync(path.join(tmp, 'gone.out'))).toBe(false);
  });
});

describe('contract sign and verify', () => {
  it('verifies by id, saves an offline copy, and detects any tampering offline', async () => {
    const { contractId } = await publishAndContract('verify.csv', 'x\n');
    const saved = path.join(tmp, 'contract.json');
    expect(await verifyContractCommand({ target: contractId, client: () => instituteClient, save: saved, io: testIo() })).toBe(0);
    const io = testIo();
    expect(await verifyContractCommand({ target: saved, io })).toBe(0);
    expect(io.out_[0]).toBe(`contract ${contractId}: valid`);

    const exported = JSON.parse(fs.readFileSync(saved, 'utf8')) as { document: Record<string, unknown>; signatures: Array<{ signature: string }>; keys: Record<string, unknown> };
    const tampers: Array<(e: typeof exported) => void> = [
      (e) => void (e.document.maxInvocations = 4),
      (e) => void (e.document.purposes = ['DUO:0000006']),
      (e) => void (e.document.validUntil = '2999-01-01T00:00:00.000Z'),
      (e) => void ((e.document.dataset as { sha256: string }).sha256 = 'f'.repeat(64)),
      (e) => void (e.signatures[0]!.signature = e.signatures[1]!.signature),
      (e) => void (e.keys = {}),
    ];
    for (const [i, tamper] of tampers.entries()) {
      // Drop canonical and digest too, as a forger would: the signatures alone must catch it.
      const copy = { ...structuredClone(exported), canonical: undefined, digest: undefined };
      tamper(copy);
      const file = path.join(tmp, `tampered-${i}.json`);
      fs.writeFileSync(file, JSON.stringify(copy));
      const tio = testIo();
      expect({ i, code: await verifyContractCommand({ target: file, io: tio }) }).toEqual({ i, code: 1 });
      expect(tio.err_[0]).toMatch(/INVALID/);
    }
  });

  it('checks that each signature\'s key was current when it signed (key rotation)', async () => {
    const consumer = await makeParticipant(ctx, ['consumer']);
    const consumerClient = clientOf(consumer);
    fs.writeFileSync(path.join(served, 'rotation.csv'), 'r\n');
    const dataset = await hospitalClient.publishDataset({ title: 'R', description: '', researchField: 'cardiology', kind: 'raw', distribution: { url: `${gateway.url}/rotation.csv`, sha256: sha256Hex('r\n'), byteSize: 2, mediaType: 'text/csv' } });
    const offer = await hospitalClient.createOffer(dataset.id, { purposes: [PURPOSE], maxInvocations: 5, access: 'download' });
    const signedBefore = await consumerClient.proposeContract({ offerId: offer.id, purposes: [PURPOSE], maxInvocations: 1 });
    expect(await signContractCommand({ client: consumerClient, contractId: signedBefore.id, yes: true, io: testIo() })).toBe(0);
    expect(await signContractCommand({ client: hospitalClient, contractId: signedBefore.id, yes: true, io: testIo() })).toBe(0);
    // Proposed (naming the current key) but not signed before the consumer rotates its key.
    const later = await consumerClient.proposeContract({ offerId: offer.id, purposes: [PURPOSE], maxInvocations: 1 });
    const next = await newKey();
    expect((await signed(ctx.app, consumer, 'post', `/v1/participants/${consumer.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) })).status).toBe(200);
    const rotatedClient = clientOf({ ...consumer, kid: next.kid, privateJwk: next.privateJwk });

    // Signed while the key was current: still valid after the rotation, online and from the saved copy.
    const saved = path.join(tmp, 'rotation-valid.json');
    const io = testIo();
    expect(await verifyContractCommand({ target: signedBefore.id, client: () => rotatedClient, save: saved, io })).toBe(0);
    expect(io.out_.join('\n')).toMatch(new RegExp(`consumer .*\\(${consumer.id}\\) signed with ${consumer.kid} at .*, before the key was rotated out at `));
    expect(await verifyContractCommand({ target: saved, io: testIo() })).toBe(0);

    // Someone holding the rotated-out key signs the later proposal after the rotation (the service refuses it with
    // SIGNING_KEY_ROTATED), and passes the signature around as an export with the provider's signature beside it.
    const now = new Date().toISOString();
    const doc = (await rotatedClient.getContract(later.id)).document;
    const keys = Object.fromEntries([...(await rotatedClient.getParticipant(consumer.id)).keys, ...(await rotatedClient.getParticipant(hospital.id)).keys].map((k) => [k.kid, { ...k.publicKeyJwk, createdAt: k.createdAt, revokedAt: k.revokedAt }]));
    const forged = {
      document: doc, canonical: later.canonical, digest: later.digest, keys,
      signatures: [
        { participantId: consumer.id, kid: consumer.kid, signature: signCanonical(later.canonical, consumer.privateJwk), signedAt: now },
        { participantId: hospital.id, kid: hospital.kid, signature: signCanonical(later.canonical, hospital.privateJwk), signedAt: now },
      ],
    };
    const check = async (file: object) => {
      const f = path.join(tmp, `rotation-${randomUUID()}.json`);
      fs.writeFileSync(f, JSON.stringify(file));
      const tio = testIo();
      return { code: await verifyContractCommand({ target: f, io: tio }), err: tio.err_.join('\n') };
    };
    expect(await check(forged)).toEqual({ code: 1, err: expect.stringMatching(new RegExp(`the consumer signed at ${now} with key ${consumer.kid}, which had been rotated out at `)) });
    // Dropping the signing time does not help: a rotated key's signature must be shown to predate the rotation.
    const undated = { ...forged, signatures: forged.signatures.map(({ signedAt: _, ...s }) => s) };
    expect(await check(undated)).toEqual({ code: 1, err: expect.stringContaining(`was rotated out at`) });
    // Back-dating it before the key existed is refused as well.
    const early = { ...forged, signatures: forged.signatures.map((s) => ({ ...s, signedAt: '2000-01-01T00:00:00.000Z' })) };
    expect(await check(early)).toEqual({ code: 1, err: expect.stringMatching(/signed at 2000-01-01T00:00:00.000Z with key .*, registered only at/) });
    // Keys without their history (an old saved file): the signatures verify, and the output says rotation was not checked.
    const bare = { ...forged, keys: Object.fromEntries(Object.entries(keys).map(([kid, k]) => [kid, { kty: k.kty, crv: k.crv, x: k.x }])) };
    expect(await check(bare)).toEqual({ code: 0, err: expect.stringContaining('not checked that it was current when it signed') });
  });

  it('asks on a terminal, refuses without one, and refuses a canonical form that does not match the document', async () => {
    const dataset = await hospitalClient.publishDataset({ title: 'Q', description: '', researchField: 'cardiology', kind: 'raw', distribution: { url: `${gateway.url}/q.csv`, sha256: 'a'.repeat(64), byteSize: 1, mediaType: 'text/csv' } });
    const offer = await hospitalClient.createOffer(dataset.id, { purposes: [PURPOSE], maxInvocations: 5, access: 'download' });
    const { id } = await instituteClient.proposeContract({ offerId: offer.id, purposes: [PURPOSE], maxInvocations: 1 });
    await expect(signContractCommand({ client: instituteClient, contractId: id, yes: false, io: testIo() })).rejects.toThrow(/--yes/);
    const no = testIo({ isTTY: true, answer: 'n' });
    expect(await signContractCommand({ client: instituteClient, contractId: id, yes: false, io: no })).toBe(1);
    expect(no.out_).toContain('invocations:       at most 1');
    expect(no.out_).toContain('reciprocity rules: none named by the offer');
    expect((await instituteClient.getContract(id)).state).toBe('proposed');

    const lying = Object.create(instituteClient) as TdsClient;
    lying.getContract = async (cid) => ({ ...(await instituteClient.getContract(cid)), canonical: '{"maxInvocations":1000}' });
    lying.signContract = () => Promise.reject(new Error('must not be called'));
    expect(await signContractCommand({ client: lying, contractId: id, yes: true, io: testIo() })).toBe(1);

    expect(await signContractCommand({ client: instituteClient, contractId: id, yes: false, io: testIo({ isTTY: true, answer: 'y' }) })).toBe(0);
    expect((await instituteClient.getContract(id)).state).toBe('consumer_signed');
  });
});

describe('tds standing', () => {
  it('prints the standing of a provider with its shared datasets', async () => {
    const io = testIo();
    expect(await standingCommand(hospitalClient, 'cardiology', undefined, false, io)).toBe(0);
    expect(io.out_[0]).toBe('research field: cardiology');
    expect(io.out_.find((l) => l.startsWith('shared datasets: '))).toMatch(/shared datasets: [1-9]/);
  });
});
