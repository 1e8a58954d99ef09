/**
 * Reciprocity rules under concurrency (hardening, class 1): the rules are
 * evaluated inside the release's own transaction, serialised per requester and
 * field, so a give-to-get rule that allows one release releases exactly one
 * whatever the number of simultaneous requests, and a withdrawal of the only
 * qualifying insight refuses every job that starts after it.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, attestDataset, makeOffer, publishDataset } from '../helpers/scenario.js';

let ctx: TestContext;
let provider: Actor;

beforeAll(async () => {
  ctx = await createTestContext({ TDS_DB_POOL_SIZE: '20' });
  provider = await makeParticipant(ctx, ['provider']);
  // Give-to-get in genomics: whoever has given nothing may receive one release (allowance 1).
  const g = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: 'genomics', datasetKind: 'insight', ratio: 1, allowance: 1 });
  expect(g.status).toBe(201);
  const m = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'minimum-contribution', researchField: 'virology', datasetKind: 'insight', minCount: 1 });
  expect(m.status).toBe(201);
});
afterAll(() => ctx.close());

const ROUNDS = 6;
const PARALLEL = 25;

describe('reciprocity inside the release', () => {
  it('releases exactly one job under a give-to-get rule allowing one, round after round', async () => {
    const dataset = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'genomics', title: 'Variant frequencies' });
    const offer = await makeOffer(ctx, provider, dataset);
    for (let round = 0; round < ROUNDS; round++) {
      const consumer = await makeParticipant(ctx, ['consumer']);
      // Two contracts on the same field: the rule counts per requester and field, not per contract.
      const a = await activeContract(ctx, provider, consumer, { offerId: offer, maxInvocations: 50 });
      const b = await activeContract(ctx, provider, consumer, { offerId: offer, maxInvocations: 50 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: i % 2 ? a : b, purpose: 'DUO:0000006' })));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual(Array(PARALLEL - 1).fill('RECIPROCITY_UNMET'));
      const jobs = (await ctx.ds.query(`SELECT count(*)::int AS n FROM jobs WHERE consumer_id = $1`, [consumer.id])) as Array<{ n: number }>;
      expect(jobs[0]!.n).toBe(1);
      const used = (await ctx.ds.query(`SELECT sum(invocations_used)::int AS n FROM contracts WHERE id = ANY($1::uuid[])`, [[a, b]])) as Array<{ n: number }>;
      expect(used[0]!.n).toBe(1);
    }
  });

  it('refuses every job that starts after a concurrent withdrawal of the only qualifying insight', async () => {
    const raw = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'virology', title: 'Viral load panel' });
    const offer = await makeOffer(ctx, provider, raw);
    for (let round = 0; round < ROUNDS; round++) {
      const sharer = await makeParticipant(ctx, ['consumer', 'provider']);
      const own = await publishDataset(ctx, sharer, { kind: 'insight', researchField: 'virology', title: `Sharer insight ${round}` });
      await makeOffer(ctx, sharer, own);
      // A contribution counts once shown real: here its provider's data node attests the file.
      await attestDataset(ctx, sharer, own);
      const cid = await activeContract(ctx, provider, sharer, { offerId: offer, maxInvocations: 100 });
      const jobs = Array.from({ length: PARALLEL }, () => signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' }));
      const withdrawal = signed(ctx.app, sharer, 'post', `/v1/datasets/${own}/withdraw`);
      const [w] = await Promise.all([withdrawal, ...jobs]);
      expect(w.status).toBe(200);
      // No job was released after the withdrawal committed ...
      const late = (await ctx.ds.query(
        `SELECT count(*)::int AS n FROM jobs j, datasets d WHERE d.id = $1 AND j.contract_id = $2 AND j.created_at > d.withdrawn_at`, [own, cid])) as Array<{ n: number }>;
      expect(late[0]!.n).toBe(0);
      // ... and the next one is refused.
      const next = await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
      expect([next.status, next.body.code]).toEqual([403, 'RECIPROCITY_UNMET']);
    }
  });
});
