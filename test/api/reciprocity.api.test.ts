import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, attestDataset, makeOffer, publishDataset } from '../helpers/scenario.js';

let ctx: TestContext;
let hospital: Actor;
let sharer: Actor;
let partner: Actor;
let freeRider: Actor;
let ruleId: string;

const insight = (field: string, title: string) => ({ kind: 'insight', researchField: field, title });

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  sharer = await makeParticipant(ctx, ['consumer', 'provider']);
  partner = await makeParticipant(ctx, ['consumer', 'provider']);
  freeRider = await makeParticipant(ctx, ['consumer']);
  const rule = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight', minCount: 1 });
  expect(rule.status).toBe(201);
  expect(rule.body).toMatchObject({ scope: 'space', kind: 'minimum-contribution', researchField: 'oncology' });
  ruleId = rule.body.id;
});
afterAll(() => ctx.close());

describe('share your insights to see others\' insights', () => {
  it('grants the sharer, refuses the free rider with an explanation, leaves another field alone, and follows withdrawal', async () => {
    const sharerInsight = await publishDataset(ctx, sharer, insight('oncology', 'Tumour response model'));
    await makeOffer(ctx, sharer, sharerInsight);
    // Shown real by the sharer's data node: only then does it count as a contribution.
    await attestDataset(ctx, sharer, sharerInsight);
    const partnerInsight = await publishDataset(ctx, partner, insight('oncology', 'Survival curves'));
    const partnerOffer = await makeOffer(ctx, partner, partnerInsight);
    await makeOffer(ctx, partner, await publishDataset(ctx, partner, insight('oncology', 'Partner second set')));

    // The sharer gets the partner's oncology insights.
    const cid = await activeContract(ctx, partner, sharer, { offerId: partnerOffer });
    const first = await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
    expect(first.status).toBe(201);

    // The free rider is refused at proposal, with the rule and what is missing named.
    const before = await snapshotCounts(ctx.ds);
    const refused = await signed(ctx.app, freeRider, 'post', '/v1/contracts', { offerId: partnerOffer, purposes: ['DUO:0000006'], maxInvocations: 1 });
    expect([refused.status, refused.body.code]).toEqual([403, 'RECIPROCITY_UNMET']);
    expect(refused.body.detail).toContain(ruleId);
    expect(refused.body.detail).toContain('has 0');
    expect(await snapshotCounts(ctx.ds)).toEqual(before);

    // Field G (cardiology) has no rule: the free rider's access there is unaffected.
    const cardioInsight = await publishDataset(ctx, partner, insight('cardiology', 'ECG features'));
    const cardioContract = await activeContract(ctx, partner, freeRider, { datasetId: cardioInsight });
    expect((await signed(ctx.app, freeRider, 'post', '/v1/jobs', { contractId: cardioContract, purpose: 'DUO:0000006' })).status).toBe(201);
    const raw = await activeContract(ctx, hospital, freeRider);
    expect((await signed(ctx.app, freeRider, 'post', '/v1/jobs', { contractId: raw, purpose: 'DUO:0000006' })).status).toBe(201);

    // Standing explains it to each of them.
    const standing = await signed(ctx.app, freeRider, 'get', '/v1/reciprocity/standing?field=oncology');
    expect(standing.body).toMatchObject({ researchField: 'oncology', mayAccess: false, shared: [] });
    expect(standing.body.rules[0]).toMatchObject({ ruleId, holds: false });
    const mine = await signed(ctx.app, sharer, 'get', '/v1/reciprocity/standing?field=oncology');
    expect(mine.body).toMatchObject({ mayAccess: true });
    expect(mine.body.rules[0].evidence).toEqual([sharerInsight]);

    // Withdrawing its own insight stops the sharer's very next release.
    expect((await signed(ctx.app, sharer, 'post', `/v1/datasets/${sharerInsight}/withdraw`)).status).toBe(200);
    const after = await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
    expect([after.status, after.body.code]).toEqual([403, 'RECIPROCITY_UNMET']);
    expect(after.body.rules[0]).toMatchObject({ ruleId, holds: false });

    // The ledger records which rules were evaluated and on what evidence.
    await ctx.services.ledger.flush();
    const entries = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = 'job.authorized' AND subjects @> $1::jsonb`, [JSON.stringify({ contract: cid })])) as Array<{ entry: string }>;
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.entry).data.reciprocity).toEqual([{ ruleId, kind: 'minimum-contribution', holds: true, evidence: [sharerInsight] }]);
    const denied = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = 'job.denied' AND subjects @> $1::jsonb`, [JSON.stringify({ contract: cid })])) as Array<{ entry: string }>;
    expect(JSON.parse(denied[0]!.entry).data.reason).toBe('RECIPROCITY_UNMET');
  });

  it('applies a provider\'s own rule only to the offers that reference it', async () => {
    const prov = await makeParticipant(ctx, ['provider']);
    const rule = await signed(ctx.app, prov, 'post', '/v1/reciprocity-rules', { kind: 'share-all', researchField: 'neurology', datasetKind: 'raw' });
    expect(rule.body.scope).toBe('offer');
    const d = await publishDataset(ctx, prov, { researchField: 'neurology' });
    const guarded = await makeOffer(ctx, prov, d, { reciprocityRuleIds: [rule.body.id] });
    const open = await makeOffer(ctx, prov, d);
    const r1 = await signed(ctx.app, freeRider, 'post', '/v1/contracts', { offerId: guarded, purposes: ['DUO:0000006'], maxInvocations: 1 });
    expect(r1.body.code).toBe('RECIPROCITY_UNMET');
    const r2 = await signed(ctx.app, freeRider, 'post', '/v1/contracts', { offerId: open, purposes: ['DUO:0000006'], maxInvocations: 1 });
    expect(r2.status).toBe(201);
    // Another provider cannot reference it.
    const d2 = await publishDataset(ctx, hospital, { researchField: 'neurology' });
    expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${d2}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1, reciprocityRuleIds: [rule.body.id] })).body.code).toBe('UNKNOWN_RULE');
  });

  it('refuses invalid rule bodies and the wrong roles with nothing written', async () => {
    const bad = [
      {}, { kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight' }, { kind: 'give-to-get', researchField: 'oncology', datasetKind: 'insight' },
      { kind: 'share-all', researchField: 'oncology', datasetKind: 'insight', ratio: 2 }, { kind: 'telepathy', researchField: 'oncology', datasetKind: 'insight' },
      { kind: 'share-all', researchField: '', datasetKind: 'insight' }, { kind: 'share-all', researchField: 'x'.repeat(201), datasetKind: 'insight' },
      { kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight', minCount: -1 },
    ];
    for (const body of bad) {
      const before = await snapshotCounts(ctx.ds);
      const res = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', body);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([JSON.stringify(body), 400, 'VALIDATION_FAILED']);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
    expect((await signed(ctx.app, freeRider, 'post', '/v1/reciprocity-rules', { kind: 'share-all', researchField: 'x', datasetKind: 'raw' })).body.code).toBe('ROLE_REQUIRED');
    expect((await signed(ctx.app, freeRider, 'get', '/v1/reciprocity/standing')).body.code).toBe('VALIDATION_FAILED');
    const list = await signed(ctx.app, freeRider, 'get', '/v1/reciprocity-rules?researchField=oncology');
    expect(list.body.items.map((r: { id: string }) => r.id)).toContain(ruleId);
  });
});

describe('the rule list', () => {
  it('pages by cursor, oldest first, every rule once; bad limits and cursors are 400', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'share-all', researchField: 'paging-field', datasetKind: 'raw' });
      expect(r.status).toBe(201);
      made.push(r.body.id);
    }
    // A provider's own rule in the same field: listed too, with its scope.
    const own = await signed(ctx.app, hospital, 'post', '/v1/reciprocity-rules', { kind: 'share-all', researchField: 'paging-field', datasetKind: 'raw' });
    made.push(own.body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await signed(ctx.app, freeRider, 'get', `/v1/reciprocity-rules?researchField=paging-field&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((r: { id: string }) => r.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(made);
    const all = await signed(ctx.app, freeRider, 'get', '/v1/reciprocity-rules?researchField=paging-field&scope=space');
    expect(all.body).toMatchObject({ nextCursor: null });
    expect(all.body.items.map((r: { id: string }) => r.id)).toEqual(made.slice(0, 7));
    for (const q of ['limit=0', 'limit=201', 'limit=1e2', 'limit=two', 'cursor=xyz', 'x=1']) {
      const res = await signed(ctx.app, freeRider, 'get', `/v1/reciprocity-rules?${q}`);
      expect([q, res.status, res.body.code]).toEqual([q, 400, 'VALIDATION_FAILED']);
    }
  });
});
