/**
 * Output review: with approvals k, a held result is invisible to the
 * consumer until k distinct named reviewers approved with signed votes; any
 * rejection rejects it; the consumer never reviews; concurrent approvals
 * release exactly once. Real keys, real database.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { computeContract, digestOf, passingResult, postResult, signValue, submitAnalysis } from '../helpers/compute.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let r1: Actor;
let r2: Actor;
let r3: Actor;
let outsider: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer', 'reviewer']);
  [r1, r2, r3, outsider] = await Promise.all([1, 2, 3, 4].map(() => makeParticipant(ctx, ['reviewer'])));
});
afterAll(() => ctx.close());

/** A job whose passing result is held under a policy asking `approvals` of r1, r2, r3 (and the consumer, named to prove it cannot vote). */
async function heldJob(approvals: number, status: 'pass' | 'review' = 'pass'): Promise<{ jobId: string; resultDigest: string; result: Record<string, unknown> }> {
  const reviewers = [r1.id, r2.id, r3.id, institute.id];
  const { contractId } = await computeContract(ctx, hospital, institute, { outputPolicy: { review: { approvals, reviewers } } });
  const jobId = (await submitAnalysis(ctx, institute, contractId)).body.id as string;
  const claim = (await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`)).body;
  const result = passingResult(claim, { status });
  const posted = await postResult(ctx, hospital, jobId, result);
  expect(posted.body.state).toBe('held');
  return { jobId, resultDigest: digestOf(result), result };
}

function vote(reviewer: Actor, jobId: string, resultDigest: string, decision: 'approve' | 'reject', signer: Actor = reviewer) {
  return signed(ctx.app, reviewer, 'post', `/v1/jobs/${jobId}/reviews`, { decision, signature: signValue(signer, { type: 'tds.review.v1', jobId, resultDigest, decision }) });
}

async function ledger(kind: string, jobId: string): Promise<Array<Record<string, unknown>>> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify({ job: jobId })])) as Array<{ entry: string }>;
  return rows.map((r) => (JSON.parse(r.entry) as { data: Record<string, unknown> }).data);
}

describe('output review', () => {
  it('with approvals 2: one approval keeps the result held and invisible to the consumer, the second releases it', async () => {
    const { jobId, resultDigest, result } = await heldJob(2);
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/result`)).body.code).toBe('RESULT_NOT_AVAILABLE');
    expect((await signed(ctx.app, r1, 'get', `/v1/jobs/${jobId}/result`)).body).toMatchObject({ result, state: 'held', resultDigest });
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${jobId}/result`)).body.state).toBe('held');
    expect((await signed(ctx.app, outsider, 'get', `/v1/jobs/${jobId}/result`)).body.code).toBe('FORBIDDEN');
    // A named reviewer reads the job it is asked to review (what was asked, on what); a reviewer not named does not.
    const seen = await signed(ctx.app, r1, 'get', `/v1/jobs/${jobId}`);
    expect([seen.status, seen.body.id, seen.body.state, seen.body.analysis]).toEqual([200, jobId, 'held', expect.any(Object)]);
    expect((await signed(ctx.app, outsider, 'get', `/v1/jobs/${jobId}`)).body.code).toBe('FORBIDDEN');
    // What awaits a reviewer.
    const awaiting = await signed(ctx.app, r1, "get", "/v1/jobs?role=reviewer&state=held");
    expect(awaiting.body.items.map((j: { id: string }) => j.id)).toContain(jobId);
    expect((await signed(ctx.app, outsider, 'get', '/v1/jobs?role=reviewer&state=held')).body.items).toEqual([]);
    expect((await signed(ctx.app, institute, 'get', '/v1/jobs?role=reviewer')).body.items.map((j: { id: string }) => j.id)).not.toContain(jobId);

    const before = await snapshotCounts(ctx.ds);
    for (const [who, send, status, code] of [
      ['a reviewer not named', () => vote(outsider, jobId, resultDigest, 'approve'), 403, 'FORBIDDEN'],
      ['the consumer, though named and a reviewer', () => vote(institute, jobId, resultDigest, 'approve'), 403, 'FORBIDDEN'],
      ['the provider', () => vote(hospital, jobId, resultDigest, 'approve'), 403, 'ROLE_REQUIRED'],
      ['a vote signed by another key', () => vote(r1, jobId, resultDigest, 'approve', r2), 400, 'INVALID_SIGNATURE'],
      ['a vote on another digest', () => vote(r1, jobId, 'b'.repeat(64), 'approve'), 400, 'INVALID_SIGNATURE'],
      ['a signature of the other decision', () => signed(ctx.app, r1, 'post', `/v1/jobs/${jobId}/reviews`, { decision: 'approve', signature: signValue(r1, { type: 'tds.review.v1', jobId, resultDigest, decision: 'reject' }) }), 400, 'INVALID_SIGNATURE'],
      ['a bad body', () => signed(ctx.app, r1, 'post', `/v1/jobs/${jobId}/reviews`, { decision: 'maybe', signature: 'x' }), 400, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await send();
      expect({ who, status: res.status, code: res.body.code }).toEqual({ who, status, code });
    }
    expect(await snapshotCounts(ctx.ds)).toEqual(before);

    const first = await vote(r1, jobId, resultDigest, 'approve');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ state: 'held', approvals: 1, approvalsNeeded: 2 });
    expect((await vote(r1, jobId, resultDigest, 'approve')).body.code).toBe('ALREADY_REVIEWED');
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/result`)).body.code).toBe('RESULT_NOT_AVAILABLE');
    expect((await vote(r2, jobId, resultDigest, 'approve')).body).toMatchObject({ state: 'completed', approvals: 2 });
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/result`)).body).toMatchObject({ result, state: 'completed' });
    const reviewed = await ledger('job.reviewed', jobId);
    expect(reviewed).toHaveLength(2);
    expect(reviewed[0]).toMatchObject({ vote: { type: 'tds.review.v1', jobId, resultDigest, decision: 'approve' }, signature: expect.any(String), kid: r1.kid });
    expect(await ledger('job.released', jobId)).toEqual([expect.objectContaining({ resultDigest, approvals: 2 })]);
    expect((await vote(r3, jobId, resultDigest, 'approve')).body.code).toBe('INVALID_STATE_TRANSITION');
  });

  it('a repeat vote is ALREADY_REVIEWED whatever the state; a first vote on a job no longer held is INVALID_STATE_TRANSITION; nothing is written', async () => {
    const released = await heldJob(2);
    expect((await vote(r1, released.jobId, released.resultDigest, 'approve')).status).toBe(201);
    expect((await vote(r1, released.jobId, released.resultDigest, 'approve')).body.code).toBe('ALREADY_REVIEWED');
    expect((await vote(r2, released.jobId, released.resultDigest, 'approve')).body.state).toBe('completed');
    const rejected = await heldJob(2);
    expect((await vote(r1, rejected.jobId, rejected.resultDigest, 'approve')).status).toBe(201);
    expect((await vote(r2, rejected.jobId, rejected.resultDigest, 'reject')).body.state).toBe('rejected');
    const before = await snapshotCounts(ctx.ds);
    for (const [what, send, status, code] of [
      ['released: the same vote again', () => vote(r1, released.jobId, released.resultDigest, 'approve'), 409, 'ALREADY_REVIEWED'],
      ['released: the releasing vote again', () => vote(r2, released.jobId, released.resultDigest, 'approve'), 409, 'ALREADY_REVIEWED'],
      ['released: the other decision', () => vote(r1, released.jobId, released.resultDigest, 'reject'), 409, 'ALREADY_REVIEWED'],
      ['released: a first vote', () => vote(r3, released.jobId, released.resultDigest, 'approve'), 409, 'INVALID_STATE_TRANSITION'],
      ['released: a repeat vote signed by another key', () => vote(r1, released.jobId, released.resultDigest, 'approve', r2), 400, 'INVALID_SIGNATURE'],
      ['rejected: the approval again', () => vote(r1, rejected.jobId, rejected.resultDigest, 'approve'), 409, 'ALREADY_REVIEWED'],
      ['rejected: the rejection again', () => vote(r2, rejected.jobId, rejected.resultDigest, 'reject'), 409, 'ALREADY_REVIEWED'],
      ['rejected: a first vote', () => vote(r3, rejected.jobId, rejected.resultDigest, 'reject'), 409, 'INVALID_STATE_TRANSITION'],
    ] as const) {
      const res = await send();
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status, code });
    }
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    expect((await ledger('job.reviewed', released.jobId)).map((v) => (v.vote as { decision: string }).decision)).toEqual(['approve', 'approve']);
  });

  it('a rejection releases nothing', async () => {
    const { jobId, resultDigest } = await heldJob(2);
    await vote(r1, jobId, resultDigest, 'approve');
    expect((await vote(r2, jobId, resultDigest, 'reject')).body).toMatchObject({ state: 'rejected', reason: 'REVIEW_REJECTED' });
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/result`)).body.code).toBe('RESULT_NOT_AVAILABLE');
    expect(await ledger('job.released', jobId)).toHaveLength(0);
    expect(await ledger('job.rejected', jobId)).toEqual([expect.objectContaining({ reason: 'REVIEW_REJECTED' })]);
  });

  it('a result the node marks for review is held even without required approvals, and one approval releases it', async () => {
    const { jobId, resultDigest } = await heldJob(0, 'review');
    expect((await vote(r3, jobId, resultDigest, 'approve')).body).toMatchObject({ state: 'completed', approvalsNeeded: 1 });
  });

  it('simultaneous approvals release exactly once (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const { jobId, resultDigest } = await heldJob(2);
      const votes = await Promise.all([r1, r2, r3].map((r) => vote(r, jobId, resultDigest, 'approve')));
      const ok = votes.filter((v) => v.status === 201).length;
      expect({ round, ok, late: votes.filter((v) => v.body.code === 'INVALID_STATE_TRANSITION').length }).toEqual({ round, ok: 2, late: 1 });
      expect(await ledger('job.released', jobId)).toHaveLength(1);
      expect(((await ctx.ds.query('SELECT state FROM jobs WHERE id = $1', [jobId])) as Array<{ state: string }>)[0]!.state).toBe('completed');
    }
  });
});
