/**
 * Download jobs after the release: the consumer reports that a job could not
 * run (POST /v1/jobs/:id/fail), the provider's gateway confirming a release
 * (GET release-status) counts as its use, and the sweep marks a release whose
 * token ran out unused as expired. Neither gives the invocation back.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { computeContract, submitAnalysis } from '../helpers/compute.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
});
afterAll(async () => {
  await ctx.close();
});

async function release(contractId: string): Promise<string> {
  const res = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function ledgerOf(kind: string, jobId: string): Promise<Array<{ actor: string; data: Record<string, unknown> }>> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify({ job: jobId })])) as Array<{ entry: string | { actor: string; data: Record<string, unknown> } }>;
  return rows.map((r) => (typeof r.entry === 'string' ? JSON.parse(r.entry) : r.entry) as { actor: string; data: Record<string, unknown> });
}

// The token's expiry moved into the past (plus the sweep's grace), as if minutes had gone by.
async function ageRelease(jobId: string): Promise<void> {
  await ctx.ds.query(`UPDATE jobs SET release = jsonb_set(release, '{expiresAt}', to_jsonb((now() - interval '2 minutes')::text)) WHERE id = $1`, [jobId]);
}

const fail = (actor: Actor, jobId: string, body: unknown = { reason: 'the gateway refused the download (404) FILE_NOT_FOUND' }) => signed(ctx.app, actor, 'post', `/v1/jobs/${jobId}/fail`, body);

describe('POST /v1/jobs/:id/fail', () => {
  it('marks the job failed, records job.failed, keeps the invocation used, and the gateway is told to refuse the token', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 3 });
    const id = await release(cid);
    const res = await fail(institute, id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, state: 'failed', reason: 'the gateway refused the download (404) FILE_NOT_FOUND', releaseConfirmed: false });
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${id}`)).body).toMatchObject({ state: 'failed', reason: 'the gateway refused the download (404) FILE_NOT_FOUND' });
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`)).body).toMatchObject({ invocationsUsed: 1, invocationsRemaining: 2 });
    const [event] = await ledgerOf('job.failed', id);
    expect(event).toMatchObject({ actor: institute.id, data: { access: 'download', reportedBy: 'consumer', releaseConfirmed: false } });
    const status = await signed(ctx.app, hospital, 'get', `/v1/jobs/${id}/release-status`);
    expect(status.body).toMatchObject({ releasable: false, reason: 'JOB_FAILED' });
    // A failed job can neither fail again nor complete.
    expect((await fail(institute, id)).body.code).toBe('INVALID_STATE_TRANSITION');
    expect((await signed(ctx.app, institute, 'post', `/v1/jobs/${id}/complete`, { resultDigest: 'a'.repeat(64) })).body.code).toBe('INVALID_STATE_TRANSITION');
  });

  it('records that the provider\'s gateway had confirmed the release (a consumer who downloaded and then reports failure is visible)', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    const id = await release(cid);
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${id}/release-status`)).body).toMatchObject({ releasable: true, reason: null });
    const res = await fail(institute, id, { reason: 'analysis crashed' });
    expect(res.body).toMatchObject({ state: 'failed', releaseConfirmed: true });
    expect((await ledgerOf('job.failed', id))[0]!.data).toMatchObject({ releaseConfirmed: true, reason: 'analysis crashed' });
  });

  it('refuses others, wrong states, compute jobs and bad bodies with a problem and writes nothing', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    const id = await release(cid);
    const stranger = await makeParticipant(ctx, ['consumer']);
    const before = await snapshotCounts(ctx.ds);
    const cases: Array<[Actor, string, unknown, number, string]> = [
      [hospital, id, { reason: 'x' }, 403, 'FORBIDDEN'],
      [stranger, id, { reason: 'x' }, 403, 'FORBIDDEN'],
      [institute, '00000000-0000-4000-8000-000000000000', { reason: 'x' }, 404, 'NOT_FOUND'],
      [institute, 'not-a-job', { reason: 'x' }, 404, 'NOT_FOUND'],
      [institute, id, {}, 400, 'VALIDATION_FAILED'],
      [institute, id, { reason: '   ' }, 400, 'VALIDATION_FAILED'],
      [institute, id, { reason: 'x', extra: 1 }, 400, 'VALIDATION_FAILED'],
      [institute, id, { reason: 'x'.repeat(1001) }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [actor, jobId, body, status, code] of cases) {
      const res = await fail(actor, jobId, body);
      expect({ jobId, body, status: res.status, code: res.body.code, type: res.type }).toEqual({ jobId, body, status, code, type: 'application/problem+json' });
    }
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    const completed = await release(cid);
    await signed(ctx.app, institute, 'post', `/v1/jobs/${completed}/complete`, { resultDigest: 'b'.repeat(64) });
    expect((await fail(institute, completed)).status).toBe(409);
    const { contractId: computeCid } = await computeContract(ctx, hospital, institute);
    const queued = await submitAnalysis(ctx, institute, computeCid);
    expect(queued.status).toBe(201);
    const refused = await fail(institute, queued.body.id as string);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 409, code: 'INVALID_STATE_TRANSITION' });
  });
});

describe('the expiry sweep', () => {
  it('marks expired the releases whose token ran out unconfirmed, once, and leaves confirmed, fresh and completed ones alone', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const unused = await release(cid);
    const confirmed = await release(cid);
    const fresh = await release(cid);
    // The operator asking is not the gateway asking: that release stays unconfirmed and expires.
    expect((await signed(ctx.app, ctx.operator, 'get', `/v1/jobs/${unused}/release-status`)).body.releasable).toBe(true);
    const completed = await release(cid);
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${confirmed}/release-status`)).body.releasable).toBe(true);
    await signed(ctx.app, institute, 'post', `/v1/jobs/${completed}/complete`, { resultDigest: 'c'.repeat(64) });
    for (const j of [unused, confirmed, completed]) await ageRelease(j);

    expect(await ctx.services.jobLifecycle.expireUnusedReleases()).toBe(1);
    expect(await ctx.services.jobLifecycle.expireUnusedReleases()).toBe(0);
    const states = await Promise.all([unused, confirmed, fresh, completed].map(async (j) => (await signed(ctx.app, institute, 'get', `/v1/jobs/${j}`)).body.state as string));
    expect(states).toEqual(['expired', 'authorized', 'authorized', 'completed']);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${unused}`)).body.reason).toBe('RELEASE_EXPIRED');
    const [event] = await ledgerOf('job.expired', unused);
    expect(event).toMatchObject({ actor: 'system', data: { access: 'download', reason: 'RELEASE_EXPIRED' } });
    expect(await ledgerOf('job.expired', confirmed)).toEqual([]);
    // The invocation stays used; the gateway is told not to serve it; it can no longer fail or complete.
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`)).body.invocationsUsed).toBe(4);
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${unused}/release-status`)).body).toMatchObject({ releasable: false, reason: 'RELEASE_EXPIRED' });
    expect((await fail(institute, unused)).body.code).toBe('INVALID_STATE_TRANSITION');
    expect((await signed(ctx.app, institute, 'post', `/v1/jobs/${unused}/complete`, { resultDigest: 'd'.repeat(64) })).body.code).toBe('INVALID_STATE_TRANSITION');
    // GET /v1/jobs filters on the new state.
    const listed = await signed(ctx.app, institute, 'get', `/v1/jobs?role=consumer&state=expired`);
    expect(listed.status).toBe(200);
    expect((listed.body.items as Array<{ id: string }>).map((j) => j.id)).toContain(unused);
  });
});
