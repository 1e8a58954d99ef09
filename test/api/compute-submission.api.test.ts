/**
 * Compute at the data, service side, part 1: offers with access and output
 * policy, the contract document's compute terms, and job submission with an
 * analysis (checked against the dataset's columns, counted exactly like a
 * release). Real database, real signatures.
 */
import type http from 'node:http';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, publishDataset, datasetBody } from '../helpers/scenario.js';
import { computeContract, digestOf, GROUPED_MEAN, PATIENT_COLUMNS, publishComputeDataset, submitAnalysis } from '../helpers/compute.js';
import { signRequestToken } from '../../src/client/request-token.js';

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

const DEFAULT_POLICY = {
  minCellCount: 10, roundTo: 5, dominance: { n: 2, k: 0.9 }, pRatio: 0.1, minResidualDf: 10,
  allowExtremes: false, maxRows: 5000, noise: null, review: { approvals: 0, reviewers: [] },
};

async function refused(send: () => Promise<{ status: number; body: { code?: string; errors?: Array<{ pointer: string }> } }>, status: number, code: string): Promise<string[]> {
  const before = await snapshotCounts(ctx.ds);
  const res = await send();
  expect([res.status, res.body.code]).toEqual([status, code]);
  expect(await snapshotCounts(ctx.ds)).toEqual(before);
  return (res.body.errors ?? []).map((e) => e.pointer);
}

async function ledgerData(kind: string, jobId: string): Promise<Record<string, unknown>[]> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify({ job: jobId })])) as Array<{ entry: string }>;
  return rows.map((r) => (JSON.parse(r.entry) as { data: Record<string, unknown> }).data);
}

describe('offers: access and output policy', () => {
  it('defaults to compute for raw data, with every policy default filled in; download for insight data', async () => {
    const raw = await publishComputeDataset(ctx, hospital);
    const o = await signed(ctx.app, hospital, 'post', `/v1/datasets/${raw}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5 });
    expect(o.status).toBe(201);
    expect(o.body).toMatchObject({ access: 'compute', outputPolicy: DEFAULT_POLICY });
    expect((await signed(ctx.app, institute, 'get', `/v1/offers/${o.body.id}`)).body).toMatchObject({ access: 'compute', outputPolicy: DEFAULT_POLICY });
    const lab = await makeParticipant(ctx, ['provider', 'consumer']);
    const insight = await publishDataset(ctx, lab, { kind: 'insight' });
    const io = await signed(ctx.app, lab, 'post', `/v1/datasets/${insight}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5 });
    expect(io.body).toMatchObject({ access: 'download', outputPolicy: null });
    const partial = await signed(ctx.app, hospital, 'post', `/v1/datasets/${raw}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5, outputPolicy: { minCellCount: 20, allowExtremes: true } });
    expect(partial.body.outputPolicy).toEqual({ ...DEFAULT_POLICY, minCellCount: 20, allowExtremes: true });
  });

  it('refuses a compute offer on a dataset without schema.columns, and bad policies, with nothing written', async () => {
    const bare = await publishDataset(ctx, hospital);
    const offer = (body: Record<string, unknown>, d = bare) => () => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5, ...body });
    expect(await refused(offer({}), 400, 'VALIDATION_FAILED')).toEqual(['/']);
    expect(await refused(offer({ access: 'compute' }), 400, 'VALIDATION_FAILED')).toEqual(['/access']);
    const d = await publishComputeDataset(ctx, hospital);
    expect(await refused(offer({ access: 'download', outputPolicy: {} }, d), 400, 'VALIDATION_FAILED')).toEqual(['/outputPolicy']);
    for (const outputPolicy of [{ roundTo: 0 }, { minCellCount: 2.5 }, { extra: 1 }, { noise: { mechanism: 'gaussian', epsilon: 1 } }, { noise: { mechanism: 'discrete-laplace', epsilon: 0 } }, { noise: { mechanism: 'discrete-laplace', epsilon: 1e-300 } }, { noise: { mechanism: 'discrete-laplace', epsilon: 0.0000009 } }, { dominance: { n: 2 } }, { review: { approvals: -1 } }, { review: { reviewers: ['not-a-uuid'] } }]) {
      await refused(offer({ outputPolicy }, d), 400, 'VALIDATION_FAILED');
    }
    expect(await refused(offer({ access: 'sometimes' }, d), 400, 'VALIDATION_FAILED')).toEqual(['/access']);
    expect(await refused(offer({ outputPolicy: { review: { approvals: 1 } } }, d), 400, 'VALIDATION_FAILED')).toEqual(['/outputPolicy/review/approvals']);
    const reviewer = await makeParticipant(ctx, ['reviewer']);
    const notReviewer = await makeParticipant(ctx, ['auditor']);
    expect(await refused(offer({ outputPolicy: { review: { approvals: 1, reviewers: [reviewer.id, notReviewer.id] } } }, d), 400, 'VALIDATION_FAILED')).toEqual(['/outputPolicy/review/reviewers/1']);
    expect((await offer({ outputPolicy: { review: { approvals: 1, reviewers: [reviewer.id] } } }, d)()).status).toBe(201);
  });

  it('validates declared columns on publication', async () => {
    const pub = (schema: unknown) => () => signed(ctx.app, hospital, 'post', '/v1/datasets', datasetBody({ schema }));
    await refused(pub({ columns: [{ name: 'age', type: 'float' }] }), 400, 'VALIDATION_FAILED');
    await refused(pub({ columns: [{ name: 'a b', type: 'integer' }] }), 400, 'VALIDATION_FAILED');
    await refused(pub({ columns: [{ name: 'age' }] }), 400, 'VALIDATION_FAILED');
    await refused(pub({ columns: [] }), 400, 'VALIDATION_FAILED');
    expect(await refused(pub({ columns: [{ name: 'age', type: 'integer' }, { name: 'age', type: 'number' }] }), 400, 'VALIDATION_FAILED')).toEqual(['/schema/columns/1/name']);
    const ok = await pub({ columns: PATIENT_COLUMNS })();
    expect(ok.status).toBe(201);
    expect(ok.body.schema).toEqual({ columns: PATIENT_COLUMNS });
  });
});

describe('the contract document carries the compute terms', () => {
  it('copies access and the full policy, and states the privacy-loss bound with noise', async () => {
    const { contractId } = await computeContract(ctx, hospital, institute, { maxInvocations: 4, outputPolicy: { noise: { mechanism: 'discrete-laplace', epsilon: 0.25 } } });
    const c = await signed(ctx.app, institute, 'get', `/v1/contracts/${contractId}`);
    expect(c.body.document).toMatchObject({ access: 'compute', outputPolicy: { ...DEFAULT_POLICY, noise: { mechanism: 'discrete-laplace', epsilon: 0.25 } }, privacyLossBound: 1 });
    expect(c.body.canonical).toContain('"privacyLossBound":1');
    const plain = await computeContract(ctx, hospital, institute);
    const doc = (await signed(ctx.app, institute, 'get', `/v1/contracts/${plain.contractId}`)).body.document;
    expect(doc).toMatchObject({ access: 'compute', outputPolicy: DEFAULT_POLICY });
    expect(doc.privacyLossBound).toBeUndefined();
    const download = (await signed(ctx.app, institute, 'get', `/v1/contracts/${await activeContract(ctx, hospital, institute)}`)).body.document;
    expect(download.access).toBe('download');
    expect(download.outputPolicy).toBeUndefined();
  });

  it('a proposal cannot bring its own policy', async () => {
    const d = await publishComputeDataset(ctx, hospital);
    const o = await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5 });
    await refused(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: o.body.id, purposes: ['DUO:0000006'], maxInvocations: 1, outputPolicy: { minCellCount: 1 } }), 400, 'VALIDATION_FAILED');
    await refused(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: o.body.id, purposes: ['DUO:0000006'], maxInvocations: 1, access: 'download' }), 400, 'VALIDATION_FAILED');
  });
});

describe('POST /v1/jobs on a compute contract', () => {
  it('queues the analysis, counts the invocation and records access and analysisDigest', async () => {
    const { contractId } = await computeContract(ctx, hospital, institute, { maxInvocations: 3 });
    const res = await submitAnalysis(ctx, institute, contractId);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), state: 'queued', access: 'compute', analysis: GROUPED_MEAN, analysisDigest: digestOf(GROUPED_MEAN), invocationsUsed: 1, invocationsRemaining: 2 });
    expect(res.body.release).toBeUndefined();
    const [authorized] = await ledgerData('job.authorized', res.body.id);
    expect(authorized).toMatchObject({ access: 'compute', analysisDigest: digestOf(GROUPED_MEAN), invocation: 1, remaining: 2 });
    expect(authorized!.releaseJti).toBeUndefined();
    const shown = await signed(ctx.app, hospital, 'get', `/v1/jobs/${res.body.id}`);
    expect(shown.body).toMatchObject({ id: res.body.id, state: 'queued', access: 'compute', analysisDigest: digestOf(GROUPED_MEAN), resultDigest: null, reason: null });
    // A download job records its access too.
    const dl = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: await activeContract(ctx, hospital, institute), purpose: 'DUO:0000006' });
    expect(dl.body).toMatchObject({ state: 'authorized', access: 'download' });
    expect((await ledgerData('job.authorized', dl.body.id))[0]).toMatchObject({ access: 'download', releaseJti: expect.any(String) });
  });

  it('refuses a missing analysis, an analysis on a download contract, and analyses that break the columns or the policy', async () => {
    const { contractId } = await computeContract(ctx, hospital, institute);
    const job = (body: Record<string, unknown>) => () => signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006', ...body });
    expect(await refused(job({}), 400, 'VALIDATION_FAILED')).toEqual(['/analysis']);
    const download = await activeContract(ctx, hospital, institute);
    expect(await refused(() => signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: download, purpose: 'DUO:0000006', analysis: GROUPED_MEAN }), 400, 'VALIDATION_FAILED')).toEqual(['/analysis']);
    const cases: Array<[unknown, string[]]> = [
      [{ type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] }, ['/analysis/groupBy/0']],
      [{ type: 'aggregate', groupBy: ['patient_id'], measures: [{ fn: 'count' }] }, ['/analysis/groupBy/0']],
      [{ type: 'aggregate', filters: [{ column: 'patient_id', op: '=', value: 'p-1' }], measures: [{ fn: 'count' }] }, ['/analysis/filters/0/column']],
      [{ type: 'aggregate', measures: [{ fn: 'mean', column: 'sex' }] }, ['/analysis/measures/0/column']],
      [{ type: 'aggregate', measures: [{ fn: 'count' }, { fn: 'min', column: 'age' }] }, ['/analysis/measures/1/fn']],
      [{ type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['sex'] }, ['/analysis/predictors/0']],
      // Values the node could not cast, and result columns with one name: refused before an invocation is counted.
      [{ type: 'aggregate', filters: [{ column: 'age', op: '<', value: 1.2345678901234568e29 }], measures: [{ fn: 'count' }] }, ['/analysis/filters/0/value']],
      [{ type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'count' }] }, ['/analysis/measures/1']],
    ];
    for (const [analysis, pointers] of cases) expect(await refused(job({ analysis }), 400, 'VALIDATION_FAILED')).toEqual(pointers);
    // Schema-level refusals: SQL, unknown functions, too many groups or filters, bad ops.
    for (const analysis of [
      'SELECT * FROM patients', { type: 'sql', query: 'x' }, { type: 'aggregate', measures: [] }, { type: 'aggregate', measures: [{ fn: 'mode', column: 'age' }] },
      { type: 'aggregate', measures: [{ fn: 'count', column: 'age' }] }, { type: 'aggregate', measures: [{ fn: 'sum' }] },
      { type: 'aggregate', groupBy: ['a', 'b', 'c', 'd', 'e'], measures: [{ fn: 'count' }] },
      { type: 'aggregate', filters: Array.from({ length: 11 }, () => ({ column: 'age', op: '>', value: 1 })), measures: [{ fn: 'count' }] },
      { type: 'aggregate', filters: [{ column: 'age', op: 'like', value: 1 }], measures: [{ fn: 'count' }] },
      { type: 'aggregate', filters: [{ column: 'age', op: 'in', value: 1 }], measures: [{ fn: 'count' }] },
      { type: 'aggregate', filters: [{ column: 'age', op: '=', value: [1] }], measures: [{ fn: 'count' }] },
      { type: 'aggregate', groupBy: ['age; DROP TABLE x'], measures: [{ fn: 'count' }] },
      { type: 'regression', model: 'logit', outcome: 'los_days', predictors: ['age'] },
      { type: 'regression', model: 'ols', outcome: 'los_days', predictors: [] },
    ]) await refused(job({ analysis }), 400, 'VALIDATION_FAILED');
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${contractId}`)).body.invocationsUsed).toBe(0);
    // min/max pass when the policy allows extremes.
    const extremes = await computeContract(ctx, hospital, institute, { outputPolicy: { allowExtremes: true } });
    expect((await submitAnalysis(ctx, institute, extremes.contractId, { type: 'aggregate', measures: [{ fn: 'max', column: 'age' }] })).status).toBe(201);
  });

  it('honours Idempotency-Key: the same job, one invocation; another analysis under the key is refused', async () => {
    const { contractId } = await computeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const first = await submitAnalysis(ctx, institute, contractId, GROUPED_MEAN, { 'Idempotency-Key': 'c-1' });
    const burst = await Promise.all([1, 2, 3, 4].map(() => submitAnalysis(ctx, institute, contractId, GROUPED_MEAN, { 'Idempotency-Key': 'c-1' })));
    expect(new Set([first, ...burst].map((r) => r.body.id)).size).toBe(1);
    expect(burst[0]!.body).toMatchObject({ state: 'queued', access: 'compute', analysisDigest: digestOf(GROUPED_MEAN) });
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${contractId}`)).body.invocationsUsed).toBe(1);
    const other = { type: 'aggregate', measures: [{ fn: 'count' }] };
    expect((await submitAnalysis(ctx, institute, contractId, other, { 'Idempotency-Key': 'c-1' })).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('exactly k: 200 simultaneous submissions against 10 remaining queue exactly 10, 10 rounds', async () => {
    for (let round = 0; round < 10; round++) {
      const { contractId } = await computeContract(ctx, hospital, institute, { maxInvocations: 10 });
      const tokens = await Promise.all(Array.from({ length: 200 }, () => signRequestToken(institute, 'POST', '/v1/jobs')));
      const body = JSON.stringify({ contractId, purpose: 'DUO:0000006', analysis: GROUPED_MEAN });
      const results = await Promise.all(tokens.map((t) =>
        fetch(`${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body })
          .then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; state?: string } }))));
      const queued = results.filter((r) => r.status === 201 && r.body.state === 'queued').length;
      const exhausted = results.filter((r) => r.status === 403 && r.body.code === 'CONTRACT_EXHAUSTED').length;
      expect({ round, queued, exhausted }).toEqual({ round, queued: 10, exhausted: 190 });
      const jobs = (await ctx.ds.query(`SELECT count(*)::int AS n FROM jobs WHERE contract_id = $1 AND state = 'queued' AND access = 'compute'`, [contractId])) as Array<{ n: number }>;
      expect(jobs[0]!.n).toBe(10);
      await ctx.services.ledger.flush();
      const entries = (await ctx.ds.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'job.authorized' AND subjects @> $1::jsonb`, [JSON.stringify({ contract: contractId })])) as Array<{ n: number }>;
      expect(entries[0]!.n).toBe(10);
    }
  });
});
