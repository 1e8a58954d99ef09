/**
 * Compute at the data, service side, part 2: the data node's claim with a
 * lease, provider-signed results (verified, bound, re-checked against the
 * signed policy), who reads a result, and the job lists. Results are signed
 * with the real provider key; forgeries with real other keys.
 */
import type http from 'node:http';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { computeContract, digestOf, passingResult, PATIENT_COLUMNS, postResult, publishComputeDataset, signValue, submitAnalysis } from '../helpers/compute.js';
import { signRequestToken } from '../../src/client/request-token.js';
import { canonicalize } from '../../src/crypto/canonical-json.js';
import { publicKeyFromJwk, verify } from '../../src/crypto/ed25519.js';
import { fromBase64Url, utf8 } from '../../src/crypto/sha256.js';
import { publicOf } from '../helpers/actors.js';
import { controlAggregate, controlRegression } from '../../src/compute/disclosure-control.js';
import { resultColumns } from '../../src/jobs/result-verification.js';
import { effectivePolicy, RESULT_TYPE, type AggregateAnalysis, type DatasetColumn, type RegressionAnalysis, type ResultBody } from '../../src/compute/analysis.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let server: http.Server;
let base: string;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  ({ server, url: base } = await listenOnLoopback(ctx.app));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await ctx.close();
});

type Claim = { id: string; contractId: string; analysisDigest: string; document: { dataset: { sha256: string }; outputPolicy?: unknown }; leaseUntil: string; state: string };

async function queuedJob(outputPolicy?: Record<string, unknown>): Promise<{ jobId: string; contractId: string }> {
  const { contractId } = await computeContract(ctx, hospital, institute, { outputPolicy });
  const res = await submitAnalysis(ctx, institute, contractId);
  expect(res.status).toBe(201);
  return { jobId: res.body.id as string, contractId };
}

async function claimed(outputPolicy?: Record<string, unknown>): Promise<Claim> {
  const { jobId } = await queuedJob(outputPolicy);
  const c = await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`);
  expect(c.status).toBe(200);
  return c.body as Claim;
}

async function ledger(kind: string, jobId: string): Promise<Array<Record<string, unknown>>> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify({ job: jobId })])) as Array<{ entry: string }>;
  return rows.map((r) => (JSON.parse(r.entry) as { data: Record<string, unknown> }).data);
}

async function stateOf(jobId: string): Promise<string> {
  return ((await ctx.ds.query('SELECT state FROM jobs WHERE id = $1', [jobId])) as Array<{ state: string }>)[0]!.state;
}

describe('claim', () => {
  it('gives the provider the analysis, the signed contract document and the dataset, with a lease', async () => {
    const { jobId, contractId } = await queuedJob();
    expect((await signed(ctx.app, institute, 'post', `/v1/jobs/${jobId}/claim`)).body.code).toBe('FORBIDDEN');
    const c = await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`);
    expect(c.status).toBe(200);
    const doc = (await signed(ctx.app, hospital, 'get', `/v1/contracts/${contractId}`)).body.document;
    expect(c.body).toMatchObject({ id: jobId, state: 'running', contractId, analysisDigest: expect.stringMatching(/^[0-9a-f]{64}$/), document: doc, contract: doc, leaseUntil: expect.any(String) });
    expect(c.body.dataset).toMatchObject({ id: doc.dataset.id, distribution: { url: expect.any(String), sha256: doc.dataset.sha256, byteSize: expect.any(Number), mediaType: expect.any(String) }, schema: { columns: expect.any(Array) } });
    expect(Date.parse(c.body.leaseUntil)).toBeGreaterThan(Date.now() + 30_000);
    expect((await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`)).body.code).toBe('INVALID_STATE_TRANSITION');
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${jobId}`)).body).toMatchObject({ state: 'running', leaseUntil: c.body.leaseUntil });
    expect(await ledger('job.claimed', jobId)).toEqual([expect.objectContaining({ analysisDigest: c.body.analysisDigest, claim: 1 })]);
    // A crashed node's job: once the lease has run out (moved into the past here) it can be claimed again.
    await ctx.ds.query(`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [jobId]);
    const again = await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`);
    expect(again.body).toMatchObject({ state: 'running', claims: 2 });
    expect(await ledger('job.claimed', jobId)).toHaveLength(2);
  });

  it('of many nodes claiming one job at once, exactly one wins (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const { jobId } = await queuedJob();
      const path = `/v1/jobs/${jobId}/claim`;
      const tokens = await Promise.all(Array.from({ length: 20 }, () => signRequestToken(hospital, 'POST', path)));
      const statuses = await Promise.all(tokens.map((t) => fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${t}` } }).then(async (r) => [r.status, ((await r.json()) as { code?: string }).code ?? ''] as const)));
      expect({ round, won: statuses.filter(([s]) => s === 200).length, lost: statuses.filter(([s, c]) => s === 409 && c === 'INVALID_STATE_TRANSITION').length }).toEqual({ round, won: 1, lost: 19 });
      expect(await ledger('job.claimed', jobId)).toHaveLength(1);
    }
  });

  it('fails a queued job whose contract was revoked instead of running it', async () => {
    const { jobId, contractId } = await queuedJob();
    expect((await signed(ctx.app, hospital, 'post', `/v1/contracts/${contractId}/revoke`, { reason: 'consent withdrawn' })).status).toBe(200);
    const c = await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`);
    expect([c.status, c.body.code, c.body.reason]).toEqual([409, 'INVALID_STATE_TRANSITION', 'CONTRACT_REVOKED']);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}`)).body).toMatchObject({ state: 'failed', reason: 'CONTRACT_REVOKED' });
    expect(await ledger('job.failed', jobId)).toEqual([{ reason: 'CONTRACT_REVOKED' }]);
  });
});

describe('result', () => {
  it('accepts a provider-signed passing result: completed, released, readable and verifiable by the consumer', async () => {
    const claim = await claimed();
    const result = passingResult(claim);
    const res = await postResult(ctx, hospital, claim.id, result);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: claim.id, state: 'completed', resultDigest: digestOf(result) });
    const [r] = await ledger('job.result', claim.id);
    expect(r).toMatchObject({ resultDigest: digestOf(result), status: 'pass', suppressedRows: 1, checks: { minCellCount: { pass: 2, suppressed: 1 }, dominance: { suppressed: 1 } } });
    expect(await ledger('job.released', claim.id)).toEqual([expect.objectContaining({ resultDigest: digestOf(result) })]);
    const got = await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}/result`);
    expect(got.body).toMatchObject({ result, state: 'completed', resultDigest: digestOf(result) });
    // Offline: the provider's signature over the RFC 8785 bytes verifies with its public key.
    expect(verify(fromBase64Url(got.body.signature), utf8(canonicalize(got.body.result)), publicKeyFromJwk(publicOf(hospital.privateJwk)))).toBe(true);
    expect((await signed(ctx.app, ctx.operator, 'get', `/v1/jobs/${claim.id}/result`)).body).toEqual({ resultDigest: digestOf(result), status: 'pass', state: 'completed' });
    const stranger = await makeParticipant(ctx, ['consumer']);
    expect((await signed(ctx.app, stranger, 'get', `/v1/jobs/${claim.id}/result`)).body.code).toBe('FORBIDDEN');
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}`)).body).toMatchObject({ state: 'completed', resultDigest: digestOf(result) });
    // A second result is a conflict.
    expect((await postResult(ctx, hospital, claim.id, result)).body.code).toBe('INVALID_STATE_TRANSITION');
  });

  it('releases nothing once the contract is revoked or the dataset withdrawn after the claim: the job fails', async () => {
    const revokedClaim = await claimed();
    expect((await signed(ctx.app, hospital, 'post', `/v1/contracts/${revokedClaim.contractId}/revoke`, { reason: 'consent withdrawn' })).status).toBe(200);
    const r1 = await postResult(ctx, hospital, revokedClaim.id, passingResult(revokedClaim));
    expect([r1.status, r1.body.state, r1.body.reason]).toEqual([200, 'failed', 'CONTRACT_REVOKED']);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${revokedClaim.id}/result`)).status).toBe(409);
    expect(await ledger('job.released', revokedClaim.id)).toEqual([]);
    expect(await ledger('job.failed', revokedClaim.id)).toEqual([expect.objectContaining({ reason: 'CONTRACT_REVOKED' })]);

    const withdrawnClaim = await claimed();
    const datasetId = ((await signed(ctx.app, hospital, 'get', `/v1/contracts/${withdrawnClaim.contractId}`)).body.document as { dataset: { id: string } }).dataset.id;
    expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${datasetId}/withdraw`)).status).toBe(200);
    const r2 = await postResult(ctx, hospital, withdrawnClaim.id, passingResult(withdrawnClaim));
    expect([r2.status, r2.body.state, r2.body.reason]).toEqual([200, 'failed', 'DATASET_WITHDRAWN']);
    expect(await ledger('job.released', withdrawnClaim.id)).toEqual([]);
  });

  it('refuses forged, mis-bound and policy-breaking results with nothing written; the job stays running', async () => {
    const claim = await claimed({ maxRows: 2 });
    const other = await makeParticipant(ctx, ['provider']);
    const good = passingResult(claim);
    const cases: Array<[string, () => ReturnType<typeof postResult>, number, string]> = [
      ['signed by another key', () => postResult(ctx, hospital, claim.id, good, other), 422, 'RESULT_MISMATCH'],
      ['signed by the consumer', () => postResult(ctx, hospital, claim.id, good, institute), 422, 'RESULT_MISMATCH'],
      ['a signature of other bytes', () => postResult(ctx, hospital, claim.id, good, hospital, signValue(hospital, { ...good, rows: [['F', 520, 4.25]] })), 422, 'RESULT_MISMATCH'],
      ['another job', () => postResult(ctx, hospital, claim.id, { ...good, jobId: '00000000-0000-4000-8000-000000000000' }), 422, 'RESULT_MISMATCH'],
      ['another contract', () => postResult(ctx, hospital, claim.id, { ...good, contractId: '00000000-0000-4000-8000-000000000000' }), 422, 'RESULT_MISMATCH'],
      ['other bytes', () => postResult(ctx, hospital, claim.id, { ...good, datasetSha256: 'f'.repeat(64) }), 422, 'RESULT_MISMATCH'],
      ['another analysis', () => postResult(ctx, hospital, claim.id, { ...good, analysisDigest: 'a'.repeat(64) }), 422, 'RESULT_MISMATCH'],
      ['other columns', () => postResult(ctx, hospital, claim.id, { ...good, columns: [{ name: 'patient_id', type: 'string' }, { name: 'count', type: 'integer' }, { name: 'mean_los_days', type: 'number' }] }), 422, 'RESULT_MISMATCH'],
      ['a small count', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520, 4.25], ['M', 5, 3.1]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['an unrounded count', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 523, 4.25]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['too many rows', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520, 4.25], ['M', 475, 4.1], ['X', 20, 3.3]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['rows in a failed result', () => postResult(ctx, hospital, claim.id, { ...good, status: 'fail', error: { code: 'DIFFERENCING_RISK' } }), 422, 'OUTPUT_POLICY_VIOLATION'],
      // Held for review under a policy that names no reviewer: nobody could ever release or reject it.
      ['held for review with no reviewer named', () => postResult(ctx, hospital, claim.id, { ...good, status: 'review' }), 422, 'OUTPUT_POLICY_VIOLATION'],
      // The columns are bound to the analysis, types included; each row has one cell per column.
      ['a count column typed string', () => postResult(ctx, hospital, claim.id, { ...good, columns: [{ name: 'sex', type: 'string' }, { name: 'count', type: 'string' }, { name: 'mean_los_days', type: 'number' }], rows: [['F', '520', '4.25']] }), 422, 'RESULT_MISMATCH'],
      ['a mean column typed string', () => postResult(ctx, hospital, claim.id, { ...good, columns: [{ name: 'sex', type: 'string' }, { name: 'count', type: 'integer' }, { name: 'mean_los_days', type: 'string' }] }), 422, 'RESULT_MISMATCH'],
      ['the columns in another order', () => postResult(ctx, hospital, claim.id, { ...good, columns: [{ name: 'sex', type: 'string' }, { name: 'mean_los_days', type: 'number' }, { name: 'count', type: 'integer' }], rows: [['F', 4.25, 520]] }), 422, 'RESULT_MISMATCH'],
      ['a row shorter than the columns', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520]] }), 422, 'RESULT_MISMATCH'],
      ['a row longer than the columns', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520, 4.25, 'secret-line']] }), 422, 'RESULT_MISMATCH'],
      // Released cells: measures are numbers (counts integers) or null, group keys fit their column's type.
      ['text in a mean cell', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520, 'secret-line']] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['a boolean in a mean cell', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', 520, true]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['a count as text', () => postResult(ctx, hospital, claim.id, { ...good, rows: [['F', '520', 4.25]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['a number in a string group key', () => postResult(ctx, hospital, claim.id, { ...good, rows: [[42, 520, 4.25]] }), 422, 'OUTPUT_POLICY_VIOLATION'],
      // The disclosure record names the policy applied: it must be the contract's, compared canonically.
      ['an empty disclosure policy', () => postResult(ctx, hospital, claim.id, { ...good, disclosure: { ...(good.disclosure as object), policy: {} } }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['a looser disclosure policy', () => postResult(ctx, hospital, claim.id, { ...good, disclosure: { ...(good.disclosure as object), policy: { ...(claim.document.outputPolicy as object), minCellCount: 1 } } }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['a failed result under another policy', () => postResult(ctx, hospital, claim.id, { ...good, status: 'fail', rows: [], error: { code: 'DIFFERENCING_RISK' }, disclosure: { ...(good.disclosure as object), policy: {} } }), 422, 'OUTPUT_POLICY_VIOLATION'],
      ['posted by the consumer', () => postResult(ctx, institute, claim.id, good, hospital), 403, 'FORBIDDEN'],
      ['posted by another provider', () => postResult(ctx, other, claim.id, good, other), 403, 'FORBIDDEN'],
      ['not a tds.result.v1', () => postResult(ctx, hospital, claim.id, { ...good, type: 'tds.result.v2' }), 400, 'VALIDATION_FAILED'],
      ['a malformed signature', () => postResult(ctx, hospital, claim.id, good, hospital, 'abc'), 400, 'VALIDATION_FAILED'],
    ];
    for (const [what, send, status, code] of cases) {
      const before = await snapshotCounts(ctx.ds);
      const res = await send();
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
      expect(await stateOf(claim.id)).toBe('running');
    }
    expect(await ledger('job.result', claim.id)).toHaveLength(0);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}/result`)).body.code).toBe('RESULT_NOT_AVAILABLE');
    // The job stayed running: the right result is still taken.
    expect((await postResult(ctx, hospital, claim.id, good)).body.state).toBe('completed');
  });

  it('a failed analysis rejects the job with the error code as reason; nothing reaches the consumer', async () => {
    const claim = await claimed();
    const failed = passingResult(claim, { status: 'fail', columns: [], rows: [], error: { code: 'DIFFERENCING_RISK', detail: 'the filters exclude 3 rows' } });
    expect((await postResult(ctx, hospital, claim.id, failed)).body).toMatchObject({ state: 'rejected', reason: 'DIFFERENCING_RISK' });
    expect(await ledger('job.rejected', claim.id)).toEqual([expect.objectContaining({ reason: 'DIFFERENCING_RISK' })]);
    expect(await ledger('job.released', claim.id)).toHaveLength(0);
    const c = await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}/result`);
    expect([c.status, c.body.code]).toEqual([409, 'RESULT_NOT_AVAILABLE']);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}`)).body).toMatchObject({ state: 'rejected', reason: 'DIFFERENCING_RISK' });
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${claim.id}/result`)).body.result).toEqual(failed);
  });

  it('only a running job takes a result; a queued one has none to give', async () => {
    const { jobId } = await queuedJob();
    const r = await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/result`);
    expect([r.status, r.body.code]).toEqual([409, 'RESULT_NOT_AVAILABLE']);
    const doc = (await signed(ctx.app, hospital, 'get', `/v1/jobs/${jobId}`)).body;
    const contract = (await signed(ctx.app, hospital, 'get', `/v1/contracts/${doc.contractId}`)).body.document;
    const res = await postResult(ctx, hospital, jobId, passingResult({ id: jobId, contractId: doc.contractId, analysisDigest: doc.analysisDigest, document: contract }));
    expect([res.status, res.body.code]).toEqual([409, 'INVALID_STATE_TRANSITION']);
  });
});

describe('result shape', () => {
  type FullClaim = Claim & { analysis: unknown; document: { outputPolicy: Record<string, unknown> }; dataset: { schema: { columns: DatasetColumn[] } } };

  /** A running job of `analysis` on a dataset declaring `columns`, under `outputPolicy`. */
  async function claimedAnalysis(analysis: unknown, opts: { outputPolicy?: Record<string, unknown>; columns?: unknown[] } = {}): Promise<FullClaim> {
    const datasetId = opts.columns ? await publishComputeDataset(ctx, hospital, { schema: { columns: opts.columns } }) : undefined;
    const { contractId } = await computeContract(ctx, hospital, institute, { outputPolicy: opts.outputPolicy, datasetId });
    const res = await submitAnalysis(ctx, institute, contractId, analysis);
    expect(res.status).toBe(201);
    const c = await signed(ctx.app, hospital, 'post', `/v1/jobs/${res.body.id}/claim`);
    expect(c.status).toBe(200);
    return c.body as FullClaim;
  }

  /** The document the data node signs around what its disclosure control produced (as run-analysis.ts builds it). */
  function nodeDocument(claim: FullClaim, body: ResultBody): Record<string, unknown> {
    return {
      type: RESULT_TYPE, jobId: claim.id, contractId: claim.contractId, datasetSha256: claim.document.dataset.sha256, analysisDigest: claim.analysisDigest,
      status: body.status, columns: body.columns, rows: body.rows, disclosure: body.disclosure, producedAt: '2026-12-01T20:00:00.000Z',
      ...(body.n !== undefined ? { n: body.n } : {}), ...(body.residualDf !== undefined ? { residualDf: body.residualDf } : {}),
    };
  }

  /** Each case is refused with nothing written and the job still running. */
  async function expectRefused(jobId: string, cases: Array<[string, unknown, string]>): Promise<void> {
    for (const [what, result, code] of cases) {
      const before = await snapshotCounts(ctx.ds);
      const res = await postResult(ctx, hospital, jobId, result);
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status: 422, code });
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
      expect(await stateOf(jobId)).toBe('running');
    }
  }

  it('refuses a result held for review when the policy names no reviewer, saying why; the node marks it pass instead', async () => {
    const claim = await claimedAnalysis({ type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] });
    const policy = effectivePolicy(claim.document.outputPolicy as never);
    expect(policy.review).toEqual({ approvals: 0, reviewers: [] });
    // What the node's disclosure control makes of a dominated mean under this policy: suppressed, and status pass.
    const body = controlAggregate({
      analysis: claim.analysis as AggregateAnalysis, schema: claim.dataset.schema.columns, policy,
      groups: [{ key: ['F'], count: 520, measures: [{ value: null, contributors: 520 }, { value: 4.25, contributors: 520, absTotal: 2210, top: [2000, 10] }] }],
    });
    expect([body.status, body.rows]).toEqual(['pass', [['F', 520, null]]]);
    const held = { ...nodeDocument(claim, body), status: 'review' };
    const before = await snapshotCounts(ctx.ds);
    const res = await postResult(ctx, hospital, claim.id, held);
    expect([res.status, res.body.code]).toEqual([422, 'OUTPUT_POLICY_VIOLATION']);
    expect(res.body.errors).toEqual([expect.objectContaining({ pointer: '/result/status' })]);
    expect(res.body.detail).toEqual(expect.stringContaining('/result/status'));
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    expect(await stateOf(claim.id)).toBe('running');
    expect(await ledger('job.result', claim.id)).toHaveLength(0);
    expect((await postResult(ctx, hospital, claim.id, nodeDocument(claim, body))).body.state).toBe('completed');
  });

  it("accepts the data node's own output, aggregate and regression; the disclosure policy compares canonically", async () => {
    const reviewer = await makeParticipant(ctx, ['reviewer']);
    const aggregate: AggregateAnalysis = { type: 'aggregate', groupBy: ['sex', 'smoker'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }, { fn: 'max', column: 'age' }] };
    const claim = await claimedAnalysis(aggregate, { outputPolicy: { allowExtremes: true, review: { approvals: 0, reviewers: [reviewer.id] } } });
    const policy = effectivePolicy(claim.document.outputPolicy as never);
    const body = controlAggregate({
      analysis: aggregate, schema: claim.dataset.schema.columns, policy,
      groups: [
        { key: ['F', true], count: 520, measures: [{ value: null, contributors: 520 }, { value: 4.25, contributors: 520, absTotal: 2210, top: [2000, 10] }, { value: 97, contributors: 520 }] },
        { key: ['M', false], count: 474, measures: [{ value: null, contributors: 474 }, { value: 3.5, contributors: 474, absTotal: 1659, top: [9, 9] }, { value: 95, contributors: 474 }] },
        { key: [null, null], count: 3, measures: [{ value: null, contributors: 3 }, { value: 1, contributors: 3, absTotal: 3, top: [1, 1] }, { value: 40, contributors: 3 }] },
      ],
    });
    // The node writes the columns the service binds results to (one definition, jobs/result-verification.ts resultColumns).
    expect(body.columns).toEqual(resultColumns(aggregate, claim.dataset.schema.columns));
    // Under a policy naming a reviewer, the dominated mean holds the result for review.
    expect([body.status, body.rows]).toEqual(['review', [['F', true, 520, null, 97], ['M', false, 475, 3.5, 95]]]);
    const doc = nodeDocument(claim, body);
    // Members of the policy in another order are the same policy (RFC 8785 bytes compared).
    const reordered = Object.fromEntries(Object.entries(policy).reverse());
    const held = await postResult(ctx, hospital, claim.id, { ...doc, disclosure: { ...body.disclosure, policy: reordered } });
    expect([held.status, held.body.state]).toEqual([200, 'held']);

    const regression: RegressionAnalysis = { type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age'] };
    const rclaim = await claimedAnalysis(regression);
    const rbody = controlRegression({
      analysis: regression, policy: effectivePolicy(rclaim.document.outputPolicy as never),
      fit: { ok: true, n: 523, residualDf: 520, terms: [{ term: 'intercept', estimate: 1.5, stdError: 0.25 }, { term: 'age', estimate: 0.03, stdError: 0.01 }] },
    });
    const rdoc = nodeDocument(rclaim, rbody);
    expect(rbody.columns).toEqual(resultColumns(regression, rclaim.dataset.schema.columns));
    await expectRefused(rclaim.id, [
      ['a term the analysis does not name', { ...rdoc, rows: [['intercept', 1.5, 0.25], ['secret-line', 0.03, 0.01]] }, 'RESULT_MISMATCH'],
      ['a term missing', { ...rdoc, rows: [['intercept', 1.5, 0.25]] }, 'RESULT_MISMATCH'],
      ['a term twice', { ...rdoc, rows: [['intercept', 1.5, 0.25], ['age', 0.03, 0.01], ['age', 0.03, 0.01]] }, 'RESULT_MISMATCH'],
      ['the terms in another order', { ...rdoc, rows: [['age', 0.03, 0.01], ['intercept', 1.5, 0.25]] }, 'RESULT_MISMATCH'],
      ['an estimate typed string', { ...rdoc, columns: [{ name: 'term', type: 'string' }, { name: 'estimate', type: 'string' }, { name: 'stdError', type: 'number' }] }, 'RESULT_MISMATCH'],
      ['text in an estimate cell', { ...rdoc, rows: [['intercept', 'secret-line', 0.25], ['age', 0.03, 0.01]] }, 'OUTPUT_POLICY_VIOLATION'],
    ]);
    expect((await postResult(ctx, hospital, rclaim.id, rdoc)).body.state).toBe('completed');
  });

  it('group keys fit their column type as the node encodes it (booleans as JSON booleans, dates as YYYY-MM-DD); measures are numbers', async () => {
    const columns = [...PATIENT_COLUMNS, { name: 'admitted', type: 'date' }];
    const analysis = { type: 'aggregate', groupBy: ['smoker', 'admitted'], measures: [{ fn: 'count' }, { fn: 'max', column: 'age' }] };
    const claim = await claimedAnalysis(analysis, { columns, outputPolicy: { allowExtremes: true } });
    const good = passingResult(claim, {
      columns: [{ name: 'smoker', type: 'boolean' }, { name: 'admitted', type: 'date' }, { name: 'count', type: 'integer' }, { name: 'max_age', type: 'integer' }],
      rows: [[true, '2024-02-29', 20, 88], [false, null, 15, null]],
    });
    const rows = (first: unknown[]) => ({ ...good, rows: [first] });
    await expectRefused(claim.id, [
      ['a boolean key as text', rows(['yes', '2024-02-29', 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a boolean key as a number', rows([1, '2024-02-29', 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a date that does not exist', rows([true, '2024-02-30', 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a date in another format', rows([true, '29.02.2024', 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a date key with text', rows([true, 'secret-line', 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a date as a number', rows([true, 20240229, 20, 88]), 'OUTPUT_POLICY_VIOLATION'],
      ['a fraction in an integer max', rows([true, '2024-02-29', 20, 88.5]), 'OUTPUT_POLICY_VIOLATION'],
      ['text in the max', rows([true, '2024-02-29', 20, 'secret-line']), 'OUTPUT_POLICY_VIOLATION'],
      ['a max typed string', { ...good, columns: [{ name: 'smoker', type: 'boolean' }, { name: 'admitted', type: 'date' }, { name: 'count', type: 'integer' }, { name: 'max_age', type: 'string' }] }, 'RESULT_MISMATCH'],
    ]);
    expect((await postResult(ctx, hospital, claim.id, good)).body.state).toBe('completed');
  });
});

describe('GET /v1/jobs', () => {
  it("lists the caller's own jobs by role, state and contract, page by page", async () => {
    const lab = await makeParticipant(ctx, ['provider'], 'List Lab');
    const uni = await makeParticipant(ctx, ['consumer'], 'List University');
    const { contractId, datasetId } = await computeContract(ctx, lab, uni, { maxInvocations: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitAnalysis(ctx, uni, contractId)).body.id as string);
    await signed(ctx.app, lab, 'post', `/v1/jobs/${ids[0]}/claim`);
    const queue = await signed(ctx.app, lab, 'get', '/v1/jobs?role=provider&state=queued');
    expect(queue.body.items.map((j: { id: string }) => j.id)).toEqual(ids.slice(1));
    // Names and titles beside the ids, for people reading the list.
    const title = (await signed(ctx.app, uni, 'get', `/v1/datasets/${datasetId}`)).body.title as string;
    expect(queue.body.items[0]).toMatchObject({ datasetId, datasetTitle: title, providerId: lab.id, provider: { id: lab.id, name: 'List Lab' }, consumer: { id: uni.id, name: 'List University' } });
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await signed(ctx.app, uni, 'get', `/v1/jobs?role=consumer&contractId=${contractId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(...page.body.items.map((j) => j.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual(ids);
    expect((await signed(ctx.app, uni, 'get', '/v1/jobs')).body.items).toHaveLength(5);
    expect((await signed(ctx.app, uni, 'get', '/v1/jobs?state=running')).body.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    // Nobody else sees them.
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs?contractId=${contractId}`)).body.items).toEqual([]);
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs?role=provider&contractId=${contractId}`)).body.items).toEqual([]);
    expect((await signed(ctx.app, uni, 'get', '/v1/jobs?role=provider')).body.items).toEqual([]);
    for (const q of ['role=auditor', 'state=done', 'limit=0', 'limit=1e400', 'cursor=xyz', 'contractId=nope', 'x=1']) {
      const r = await signed(ctx.app, uni, 'get', `/v1/jobs?${q}`);
      expect({ q, status: r.status, code: r.body.code }).toEqual({ q, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect((await signed(ctx.app, uni, 'get', '/v1/jobs?role=reviewer')).body.code).toBe('ROLE_REQUIRED');
  });
});

describe('result size', () => {
  it('takes a result over 256 kB (up to 1 MiB) on the result route only; a larger one is 413 with nothing written', async () => {
    const claim = await claimed();
    const rows = (n: number, width: number) => Array.from({ length: n }, (_, i) => [`${String(i).padStart(5, '0')}${'x'.repeat(width)}`, 520, 4.25]);
    const tooBig = passingResult(claim, { rows: rows(5000, 250) });
    expect(JSON.stringify(tooBig).length).toBeGreaterThan(1024 * 1024);
    const before = await snapshotCounts(ctx.ds);
    const refused = await postResult(ctx, hospital, claim.id, tooBig);
    expect([refused.status, refused.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    const big = passingResult(claim, { rows: rows(3000, 100) });
    expect(JSON.stringify(big).length).toBeGreaterThan(256 * 1024);
    const ok = await postResult(ctx, hospital, claim.id, big);
    expect(ok.body).toMatchObject({ state: 'completed', resultDigest: digestOf(big) });
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${claim.id}/result`)).body.result.rows).toHaveLength(3000);
    // Other routes keep the general limit.
    const other = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: claim.contractId, purpose: 'DUO:0000006', description: 'x'.repeat(300 * 1024) });
    expect([other.status, other.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});
