/**
 * What stops releases stops the ones in flight too: "withdrawing a dataset
 * stops all further releases at once", and a suspended participant can do
 * nothing. Many simultaneous job requests on a contract while its dataset is
 * withdrawn, or its consumer suspended, round after round: every release
 * either committed before (its job older, its job.authorized earlier in the
 * ledger) or released nothing. Until both were recorded on the contract row,
 * a release in flight read them as of its statement's start and committed
 * after them. And a countersignature racing a withdrawal never deadlocks.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer, publishDataset, signCanonical } from '../helpers/scenario.js';

let ctx: TestContext;
let provider: Actor;
let consumer: Actor;

beforeAll(async () => {
  ctx = await createTestContext({ TDS_DB_POOL_SIZE: '20' });
  provider = await makeParticipant(ctx, ['provider']);
  consumer = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

const ROUNDS = 10;
const PARALLEL = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('releases nothing after a withdrawal commits, with releases in flight, round after round', async () => {
  let overlapped = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const dataset = await publishDataset(ctx, provider, { title: `Cohort ${round}` });
    const offer = await makeOffer(ctx, provider, dataset, { maxInvocations: 1000 });
    const contractId = await activeContract(ctx, provider, consumer, { offerId: offer, maxInvocations: 1000 });
    const jobs = Array.from({ length: PARALLEL }, (_, i) => sleep(i % 10).then(() => signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' })));
    const withdrawal = sleep(round % 5).then(() => signed(ctx.app, provider, 'post', `/v1/datasets/${dataset}/withdraw`));
    const [w, ...answers] = await Promise.all([withdrawal, ...jobs]);
    expect(w.status).toBe(200);
    const released = answers.filter((a) => a.status === 201).length;
    expect(answers.filter((a) => a.status !== 201).map((a) => a.body.code)).toEqual(Array(PARALLEL - released).fill('DATASET_WITHDRAWN'));
    if (released > 0 && released < PARALLEL) overlapped++;
    // No job younger than the withdrawal ...
    const late = (await ctx.ds.query(
      `SELECT count(*)::int AS n FROM jobs j, datasets d WHERE d.id = $1 AND j.contract_id = $2 AND j.created_at > d.withdrawn_at`, [dataset, contractId])) as Array<{ n: number }>;
    expect([round, late[0]!.n]).toEqual([round, 0]);
    // ... and no job.authorized after dataset.withdrawn in the ledger.
    await ctx.services.ledger.flush();
    const order = (await ctx.ds.query(
      `SELECT max(idx) FILTER (WHERE kind = 'job.authorized' AND subjects->>'contract' = $2)::int AS last_release,
              min(idx) FILTER (WHERE kind = 'dataset.withdrawn' AND subjects->>'dataset' = $1)::int AS withdrawn
         FROM ledger_entries WHERE subjects->>'dataset' = $1 OR subjects->>'contract' = $2`, [dataset, contractId])) as Array<{ last_release: number | null; withdrawn: number }>;
    if (order[0]!.last_release !== null) expect([round, order[0]!.last_release < order[0]!.withdrawn]).toEqual([round, true]);
    const used = (await signed(ctx.app, consumer, 'get', `/v1/contracts/${contractId}`)).body.invocationsUsed;
    expect(used).toBe(released);
    // Afterwards, refused.
    const next = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
    expect([next.status, next.body.code]).toEqual([403, 'DATASET_WITHDRAWN']);
  }
  // The rounds did race: in some, releases and the withdrawal overlapped.
  expect(overlapped).toBeGreaterThan(0);
});

it('a countersignature racing the withdrawal: one of them first, never a deadlock or a 500, round after round', async () => {
  const outcomes = new Set<string>();
  for (let round = 0; round < ROUNDS; round++) {
    const dataset = await publishDataset(ctx, provider, { title: `Signing race ${round}` });
    const offer = await makeOffer(ctx, provider, dataset);
    // Several contracts awaiting the provider: the withdrawal marks them all while signatures lock them one by one.
    const waiting: Array<{ id: string; canonical: string }> = [];
    for (let i = 0; i < 4; i++) {
      const proposed = await signed(ctx.app, consumer, 'post', '/v1/contracts', { offerId: offer, purposes: ['DUO:0000006'], maxInvocations: 5 });
      const { id, canonical } = proposed.body as { id: string; canonical: string };
      expect((await signed(ctx.app, consumer, 'post', `/v1/contracts/${id}/signatures`, { kid: consumer.kid, signature: signCanonical(consumer, canonical) })).status).toBe(200);
      waiting.push({ id, canonical });
    }
    const signatures = waiting.map((c, i) => sleep(i).then(() => signed(ctx.app, provider, 'post', `/v1/contracts/${c.id}/signatures`, { kid: provider.kid, signature: signCanonical(provider, c.canonical) })));
    const [w, ...signs] = await Promise.all([sleep(round % 4).then(() => signed(ctx.app, provider, 'post', `/v1/datasets/${dataset}/withdraw`)), ...signatures]);
    expect(w.status).toBe(200);
    for (const [i, r] of signs.entries()) {
      expect([200, 403]).toContain(r.status);
      if (r.status === 403) expect(r.body.code).toBe('DATASET_WITHDRAWN');
      outcomes.add(String(r.status));
      // Whatever the order, the contract releases nothing now.
      const job = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: waiting[i]!.id, purpose: 'DUO:0000006' });
      expect(job.status).toBe(403);
    }
  }
  expect(outcomes.size).toBeGreaterThan(0);
});

it('releases nothing after a suspension of the consumer commits, with releases in flight, round after round', async () => {
  let overlapped = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const suspended = await makeParticipant(ctx, ['consumer']);
    const contractId = await activeContract(ctx, provider, suspended, { maxInvocations: 1000, offer: { maxInvocations: 1000 } });
    const jobs = Array.from({ length: PARALLEL }, (_, i) => sleep(i % 10).then(() => signed(ctx.app, suspended, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' })));
    const suspension = sleep(round % 5).then(() => signed(ctx.app, ctx.operator, 'post', `/v1/participants/${suspended.id}/suspend`));
    const [s, ...answers] = await Promise.all([suspension, ...jobs]);
    expect(s.status).toBe(200);
    const released = answers.filter((a) => a.status === 201).length;
    for (const a of answers.filter((x) => x.status !== 201)) expect(['PARTICIPANT_NOT_ACTIVE', 'PARTICIPANT_SUSPENDED']).toContain(a.body.code);
    if (released > 0 && released < PARALLEL) overlapped++;
    await ctx.services.ledger.flush();
    const order = (await ctx.ds.query(
      `SELECT max(idx) FILTER (WHERE kind = 'job.authorized' AND subjects->>'contract' = $2)::int AS last_release,
              min(idx) FILTER (WHERE kind = 'participant.suspended' AND subjects->>'participant' = $1)::int AS suspended
         FROM ledger_entries WHERE subjects->>'participant' = $1 OR subjects->>'contract' = $2`, [suspended.id, contractId])) as Array<{ last_release: number | null; suspended: number }>;
    if (order[0]!.last_release !== null) expect([round, order[0]!.last_release < order[0]!.suspended]).toEqual([round, true]);
    const used = (await ctx.ds.query('SELECT invocations_used FROM contracts WHERE id = $1', [contractId])) as Array<{ invocations_used: number }>;
    expect(used[0]!.invocations_used).toBe(released);
    // Reinstated, it releases again: the contract's record follows the status back.
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${suspended.id}/approve`)).status).toBe(200);
    expect((await signed(ctx.app, suspended, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' })).status).toBe(201);
  }
  expect(overlapped).toBeGreaterThan(0);
});
