/**
 * Compute at the data end to end: the real service on the real database,
 * listening on loopback, and a real `tds node` as a SEPARATE PROCESS (built
 * CLI, sandboxed) over a CSV of 1,212 synthetic patients written here. The
 * consumer submits analyses over HTTP; the node claims, runs and posts signed
 * results; the test checks what is released, the provider's signature
 * offline, the ledger, the refusals, and a kill -9 of the node mid-job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, publicOf, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer, publishDataset } from '../helpers/scenario.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { digestOf, verifyDocumentSignature, type ComputeJob, type SignedResult } from '../../src/client/compute-api.js';
import { sha256File } from '../../src/compute/run-analysis.js';

const PURPOSE = 'DUO:0000006';
let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let dataDir: string;
let csv: string;
let keyFile: string;
let provider: Actor;
let consumer: Actor;
let contractId: string;
let node: { child: ChildProcess; lines: string[] } | null = null;

interface Patient { id: string; ward: string; age: number; sex: string; los: number; smoker: boolean; weight: number }
const patients: Patient[] = [];

const clientOf = (a: Actor) => new TdsClient({ baseUrl: serviceUrl, credentials: { id: a.id, kid: a.kid, privateJwk: a.privateJwk }, audience: ctx.config.audience });

function startNode(): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, [path.resolve('dist/src/cli/tds.js'), 'node', '--key', keyFile, '--dir', dataDir, '--service', serviceUrl, '--interval', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  child.stdout!.on('data', () => undefined);
  return { child, lines };
}

async function stopNode(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!node) return;
  const { child } = node;
  node = null;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; node log:\n${node?.lines.slice(-20).join('\n') ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(analysis: unknown): Promise<ComputeJob> {
  return clientOf(consumer).request<ComputeJob>('POST', '/v1/jobs', { contractId, purpose: PURPOSE, analysis });
}

async function settled(jobId: string): Promise<ComputeJob> {
  return until(`job ${jobId} to settle`, async () => {
    const j = await clientOf(consumer).request<ComputeJob>('GET', `/v1/jobs/${jobId}`);
    return ['completed', 'rejected', 'failed', 'held'].includes(j.state) ? j : undefined;
  });
}

/** The job's ledger entries once `kinds` are all integrated. */
async function ledgerOf(jobId: string, kinds: string[]): Promise<Array<{ kind: string; data: Record<string, unknown> }>> {
  return until(`ledger entries ${kinds.join(', ')} of ${jobId}`, async () => {
    const mine = await readLedger(jobId);
    return kinds.every((k) => mine.some((e) => e.kind === k)) ? mine : undefined;
  });
}

async function readLedger(jobId: string): Promise<Array<{ kind: string; data: Record<string, unknown> }>> {
  const page = await new TdsClient({ baseUrl: serviceUrl, credentials: { id: ctx.operator.iss, kid: ctx.operator.kid, privateJwk: ctx.operator.privateJwk }, audience: ctx.config.audience })
    .request<{ entries: Array<{ entry: { kind: string; subjects: Record<string, string>; data: Record<string, unknown> } }> }>('GET', '/v1/ledger/entries?start=0&limit=1000');
  return page.entries.filter((e) => e.entry.subjects?.job === jobId).map((e) => ({ kind: e.entry.kind, data: e.entry.data }));
}

beforeAll(async () => {
  // Background work on: the sequencer integrates ledger entries as the real service does.
  ctx = await createTestContext({ TDS_JOB_LEASE_SECONDS: '3' }, { background: true });
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-node-e2e-'));
  dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  csv = path.join(dataDir, 'patients.csv');
  const wards = ['cardiology', 'oncology', 'surgery'];
  for (let i = 0; i < 1200; i++) {
    // Eight burns patients: a group under the threshold of 10.
    const ward = i < 8 ? 'burns' : wards[i % 3]!;
    patients.push({ id: `P${String(i).padStart(5, '0')}`, ward, age: 20 + (i % 70), sex: i % 2 === 0 ? 'F' : 'M', los: 1 + ((i * 7) % 23) / 2, smoker: i % 5 === 0, weight: 50 + ((i * 13) % 50) });
  }
  // Exactly twelve patients aged 95 or more: a filter on them passes the query-set rule, a regression on them has too few df.
  for (let i = 0; i < 12; i++) patients.push({ id: `Q${i}`, ward: wards[i % 3]!, age: 95 + (i % 2), sex: i % 2 === 0 ? 'F' : 'M', los: 2 + i, smoker: i % 3 === 0, weight: 60 + ((i * 7) % 11) });
  fs.writeFileSync(csv, `patient_id,ward,age,sex,los_days,smoker,weight_kg\n${patients.map((p) => `${p.id},${p.ward},${p.age},${p.sex},${p.los},${p.smoker},${p.weight}`).join('\n')}\n`);

  provider = await makeParticipant(ctx, ['provider']);
  consumer = await makeParticipant(ctx, ['consumer']);
  const datasetId = await publishDataset(ctx, provider, {
    title: 'Admissions 2025', kind: 'raw',
    distribution: { url: 'http://127.0.0.1:9/files/patients.csv', sha256: await sha256File(csv), byteSize: fs.statSync(csv).size, mediaType: 'text/csv' },
    schema: { columns: [
      { name: 'patient_id', type: 'string', identifier: true }, { name: 'ward', type: 'string' }, { name: 'age', type: 'integer' },
      { name: 'sex', type: 'string' }, { name: 'los_days', type: 'number' }, { name: 'smoker', type: 'boolean' }, { name: 'weight_kg', type: 'number' },
    ] },
  });
  const offerId = await makeOffer(ctx, provider, datasetId, { access: 'compute' });
  contractId = await activeContract(ctx, provider, consumer, { datasetId, offerId, maxInvocations: 20 });
  keyFile = path.join(tmp, 'hospital.json');
  fs.writeFileSync(keyFile, JSON.stringify({ id: provider.id, kid: provider.kid, privateJwk: provider.privateJwk }), { mode: 0o600 });
  node = startNode();
  await until('the node to start polling', () => (node!.lines.some((l) => l.includes('data node started')) ? true : undefined));
});

afterAll(async () => {
  await stopNode('SIGKILL');
  await new Promise((r) => server?.close(r));
  await ctx?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('a grouped count/mean: rounded counts, the small group absent and counted, signature verifies offline, ledger complete', async () => {
  const analysis = { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] };
  const queued = await submit(analysis);
  expect(queued).toMatchObject({ state: 'queued', analysisDigest: digestOf(analysis) });
  const job = await settled(queued.id);
  expect(job.state).toBe('completed');
  const signed = await clientOf(consumer).request<SignedResult>('GET', `/v1/jobs/${job.id}/result`);
  const r = signed.result as { status: string; columns: Array<{ name: string }>; rows: unknown[][]; disclosure: { suppressedRows: number; rounded: unknown }; datasetSha256: string };
  expect(r.status).toBe('pass');
  expect(r.columns.map((c) => c.name)).toEqual(['ward', 'count', 'mean_los_days']);
  const expected = ['cardiology', 'oncology', 'surgery'].map((w) => {
    const mine = patients.filter((p) => p.ward === w);
    return { w, count: Math.round(mine.length / 5) * 5, mean: mine.reduce((a, p) => a + p.los, 0) / mine.length };
  });
  expect(r.rows.map((row) => row[0])).toEqual(expected.map((e) => e.w));
  r.rows.forEach((row, i) => {
    expect(row[1]).toBe(expected[i]!.count);
    expect((row[1] as number) % 5).toBe(0);
    expect(row[2] as number).toBeCloseTo(expected[i]!.mean, 9);
  });
  expect(r.rows.some((row) => row[0] === 'burns')).toBe(false);
  expect(r.disclosure.suppressedRows).toBe(1);
  expect(r.datasetSha256).toBe(await sha256File(csv));
  // Offline: the provider's registered public key and the RFC 8785 bytes, nothing else.
  expect(verifyDocumentSignature(signed.result, signed.signature, { ...publicOf(provider.privateJwk) })).toBe(true);
  expect(verifyDocumentSignature({ ...signed.result, rows: [] }, signed.signature, { ...publicOf(provider.privateJwk) })).toBe(false);
  expect(digestOf(signed.result)).toBe(job.resultDigest);
  const ledger = await ledgerOf(job.id, ['job.authorized', 'job.claimed', 'job.result', 'job.released']);
  const kinds = ledger.map((e) => e.kind);
  for (const k of ['job.authorized', 'job.claimed', 'job.result', 'job.released']) expect(kinds).toContain(k);
  expect(ledger.find((e) => e.kind === 'job.authorized')!.data.analysisDigest).toBe(digestOf(analysis));
  expect(ledger.find((e) => e.kind === 'job.result')!.data.resultDigest).toBe(job.resultDigest);
  expect(ledger.find((e) => e.kind === 'job.released')!.data.resultDigest).toBe(job.resultDigest);
});

test('filters that select or exclude fewer than 10 rows are rejected with DIFFERENCING_RISK, nothing released', async () => {
  for (const filters of [[{ column: 'ward', op: '=', value: 'burns' }], [{ column: 'age', op: '>=', value: 0 }]]) {
    const job = await settled((await submit({ type: 'aggregate', filters, measures: [{ fn: 'count' }] })).id);
    expect(job).toMatchObject({ state: 'rejected', reason: 'DIFFERENCING_RISK' });
    await expect(clientOf(consumer).request('GET', `/v1/jobs/${job.id}/result`)).rejects.toMatchObject({ code: 'RESULT_NOT_AVAILABLE' });
  }
});

test('a regression under the residual-df limit fails; one above it releases estimates with n rounded', async () => {
  const low = await settled((await submit({ type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age', 'weight_kg'], filters: [{ column: 'age', op: '>=', value: 95 }] })).id);
  expect(low).toMatchObject({ state: 'rejected', reason: 'RESIDUAL_DF_TOO_LOW' });
  const ok = await settled((await submit({ type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age', 'weight_kg'] })).id);
  expect(ok.state).toBe('completed');
  const signed = await clientOf(consumer).request<SignedResult>('GET', `/v1/jobs/${ok.id}/result`);
  const r = signed.result as { rows: unknown[][]; n: number; residualDf: number };
  expect(r.rows.map((row) => row[0])).toEqual(['intercept', 'age', 'weight_kg']);
  expect(r.n).toBe(Math.round(patients.length / 5) * 5);
  expect(r.residualDf).toBe(patients.length - 3);
});

test('a changed file fails its digest check (DATASET_DIGEST_MISMATCH) and the node goes on', async () => {
  const original = fs.readFileSync(csv);
  fs.appendFileSync(csv, 'X1,cardiology,50,F,3,false,70\n');
  try {
    const job = await settled((await submit({ type: 'aggregate', measures: [{ fn: 'count' }] })).id);
    expect(job).toMatchObject({ state: 'rejected', reason: 'DATASET_DIGEST_MISMATCH' });
  } finally {
    fs.writeFileSync(csv, original);
  }
  const next = await settled((await submit({ type: 'aggregate', measures: [{ fn: 'count' }] })).id);
  expect(next.state).toBe('completed');
});

test('kill -9 of the node mid-job, then a restart: the job completes exactly once', async () => {
  const queued = await submit({ type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'median', column: 'age' }] });
  // Killed the moment the claim is logged (not on a poll tick): the sandboxed run takes far longer than that.
  await new Promise<void>((resolve) => {
    const onData = () => {
      if (node!.lines.some((l) => l.includes('job claimed') && l.includes(queued.id))) {
        node!.child.stderr!.off('data', onData);
        node!.child.kill('SIGKILL');
        resolve();
      }
    };
    node!.child.stderr!.on('data', onData);
    onData();
  });
  await stopNode('SIGKILL');
  const afterKill = await clientOf(consumer).request<ComputeJob>('GET', `/v1/jobs/${queued.id}`);
  node = startNode();
  const job = await settled(queued.id);
  expect(job.state).toBe('completed');
  const ledger = await ledgerOf(queued.id, ['job.result', 'job.released']);
  expect(ledger.filter((e) => e.kind === 'job.result')).toHaveLength(1);
  expect(ledger.filter((e) => e.kind === 'job.released')).toHaveLength(1);
  // Killed before its result: the restarted node claimed it again once the 3 s lease ran out.
  expect(afterKill.state).toBe('running');
  expect(ledger.filter((e) => e.kind === 'job.claimed')).toHaveLength(2);
});

/** Run the built CLI as its own process in the temp folder (receipts land there). */
function tdsCli(actor: Actor, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const file = path.join(tmp, `${actor.id}.json`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify({ id: actor.id, kid: actor.kid, privateJwk: actor.privateJwk }), { mode: 0o600 });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('dist/src/cli/tds.js'), '--service', serviceUrl, '--key', file, '--audience', ctx.config.audience, ...args], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('the CLI: analysis submit --wait prints the verified table; a held result is released by tds review approve', async () => {
  const analysisFile = path.join(tmp, 'analysis.json');
  fs.writeFileSync(analysisFile, JSON.stringify({ type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'age' }] }));
  const waited = await tdsCli(consumer, 'analysis', 'submit', '--contract', contractId, '--purpose', PURPOSE, '--file', analysisFile, '--wait');
  expect(waited.code).toBe(0);
  const females = patients.filter((p) => p.sex === 'F').length;
  expect(waited.out).toMatch(new RegExp(`^F\\s+${Math.round(females / 5) * 5}\\s`, 'm'));
  expect(waited.out).toMatch(/provider signature verified/);

  const reviewer = await makeParticipant(ctx, ['reviewer']);
  const datasetId = (await clientOf(consumer).request<{ document: { dataset: { id: string } } }>('GET', `/v1/contracts/${contractId}`)).document.dataset.id;
  const offerId = await makeOffer(ctx, provider, datasetId, { access: 'compute', outputPolicy: { review: { approvals: 1, reviewers: [reviewer.id] } } });
  const reviewed = await activeContract(ctx, provider, consumer, { datasetId, offerId, maxInvocations: 5 });
  const submitted = await tdsCli(consumer, 'analysis', 'submit', '--contract', reviewed, '--purpose', PURPOSE, '--file', analysisFile);
  expect(submitted.code).toBe(0);
  const jobId = /job (\S+) queued/.exec(submitted.out)![1]!;
  expect((await settled(jobId)).state).toBe('held');
  expect((await tdsCli(consumer, 'job', 'result', jobId)).err).toMatch(/RESULT_NOT_AVAILABLE/);
  expect((await tdsCli(reviewer, 'review', 'list')).out).toContain(jobId);
  const approved = await tdsCli(reviewer, 'review', 'approve', jobId, '--comment', 'ward sizes checked');
  expect(approved.err).toBe('');
  expect(approved.code).toBe(0);
  expect(approved.out).toMatch(/approve recorded .*job is completed/);
  const saved = path.join(tmp, 'result.json');
  const fetched = await tdsCli(consumer, 'job', 'result', jobId, '--out', saved);
  expect(fetched.code).toBe(0);
  const doc = JSON.parse(fs.readFileSync(saved, 'utf8')) as SignedResult;
  expect(verifyDocumentSignature(doc.result, doc.signature, { ...publicOf(provider.privateJwk) })).toBe(true);
  expect((await ledgerOf(jobId, ['job.reviewed', 'job.released'])).find((e) => e.kind === 'job.reviewed')).toBeDefined();
});
