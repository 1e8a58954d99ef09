/**
 * Releases under reciprocity rules decided on one read with no lock held,
 * re-checked by the release statement at commit: exact whatever the number of
 * serving processes; every release, whichever path released it, adds exactly
 * one to what its consumer received (the count give-to-get is re-checked
 * against); a withdrawal moves the version a decision without locks checks.
 */
import type { Express } from 'express';
import { pino } from 'pino';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, attestDataset, makeOffer, publishDataset } from '../helpers/scenario.js';
import { buildApp } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { loadSchemas } from '../../src/http/validation.js';
import { releaseBatchAsCallerRuled } from '../../src/jobs/release.store.js';
import { randomUUID } from 'node:crypto';
import { listenOnLoopback } from '../helpers/loopback.js';
import { signRequestToken } from '../../src/client/request-token.js';

let ctx: TestContext;
let provider: Actor;
let other: Express;

// A second serving process on the same database: its own services (its own in-process queue and caches).
function secondProcess(): Express {
  const logger = pino({ level: 'silent' });
  return buildApp({ config: ctx.config, ds: ctx.ds, logger, keys: ctx.keys, schemas: loadSchemas(), services: createServices(ctx.ds, ctx.config, ctx.keys, logger) });
}

async function received(participant: string, field: string, kind: string): Promise<number> {
  const rows = (await ctx.ds.query(`SELECT received FROM reciprocity_received WHERE participant_id = $1 AND research_field = $2 AND kind = $3`, [participant, field, kind])) as Array<{ received: string }>;
  return rows[0] ? Number(rows[0].received) : 0;
}

async function version(participant: string, field: string, kind: string): Promise<number> {
  const rows = (await ctx.ds.query(`SELECT version FROM reciprocity_received WHERE participant_id = $1 AND research_field = $2 AND kind = $3`, [participant, field, kind])) as Array<{ version: string }>;
  return rows[0] ? Number(rows[0].version) : 0;
}

async function jobsOf(consumer: string): Promise<number> {
  return ((await ctx.ds.query(`SELECT count(*)::int AS n FROM jobs WHERE consumer_id = $1`, [consumer])) as Array<{ n: number }>)[0]!.n;
}

beforeAll(async () => {
  ctx = await createTestContext({ TDS_DB_POOL_SIZE: '20' });
  provider = await makeParticipant(ctx, ['provider']);
  other = secondProcess();
  expect((await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: 'oncology', datasetKind: 'insight', ratio: 1, allowance: 3 })).status).toBe(201);
});
afterAll(() => ctx.close());

const ROUNDS = 6;
const PARALLEL = 24;

describe('releases under rules decided on one read', () => {
  it('release exactly the allowance across two serving processes, round after round', async () => {
    const dataset = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'oncology', title: 'Tumour board outcomes' });
    const offer = await makeOffer(ctx, provider, dataset);
    for (let round = 0; round < ROUNDS; round++) {
      const consumer = await makeParticipant(ctx, ['consumer']);
      const a = await activeContract(ctx, provider, consumer, { offerId: offer, maxInvocations: 50 });
      const b = await activeContract(ctx, provider, consumer, { offerId: offer, maxInvocations: 50 });
      // Alternate processes and contracts: two in-process queues race for the same versions.
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        signed(i % 2 ? ctx.app : other, consumer, 'post', '/v1/jobs', { contractId: i % 4 < 2 ? a : b, purpose: 'DUO:0000006' })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(3);
      expect(results.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual(Array(PARALLEL - 3).fill('RECIPROCITY_UNMET'));
      expect(await jobsOf(consumer.id)).toBe(3);
      // Each release added one to what the consumer received there, and nothing else did.
      expect(await received(consumer.id, 'oncology', 'insight')).toBe(3);
    }
  });

  it('counts releases no rule governs in a field an offer rule counts, whichever process and path released them', async () => {
    // An offer-scoped rule: the open dataset in the same field and kind is governed by nothing.
    const guardian = await makeParticipant(ctx, ['provider']);
    const rule = await signed(ctx.app, guardian, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: 'cardiology', datasetKind: 'insight', ratio: 1, allowance: 4 });
    expect(rule.status).toBe(201);
    const guarded = await publishDataset(ctx, guardian, { kind: 'insight', researchField: 'cardiology', title: 'Guarded echo panel' });
    const guardedOffer = await makeOffer(ctx, guardian, guarded, { reciprocityRuleIds: [rule.body.id] });
    const open = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'cardiology', title: 'Open echo panel' });
    const openOffer = await makeOffer(ctx, provider, open);
    for (let round = 0; round < ROUNDS; round++) {
      const consumer = await makeParticipant(ctx, ['consumer']);
      const ruled = await activeContract(ctx, guardian, consumer, { offerId: guardedOffer, maxInvocations: 50 });
      const plain = await activeContract(ctx, provider, consumer, { offerId: openOffer, maxInvocations: 50 });
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        signed(i % 3 ? ctx.app : other, consumer, 'post', '/v1/jobs', { contractId: i % 2 ? ruled : plain, purpose: 'DUO:0000006' })));
      const released = results.filter((r) => r.status === 201);
      const plainReleased = released.filter((r) => r.body.contractId === plain).length;
      const ruledReleased = released.filter((r) => r.body.contractId === ruled).length;
      // Every plain request releases (nothing governs it); refusals are the rule's only.
      expect(plainReleased).toBe(PARALLEL / 2);
      expect(results.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual(Array(PARALLEL / 2 - ruledReleased).fill('RECIPROCITY_UNMET'));
      // Every release, plain or ruled, added one to the count the rule is re-checked against.
      expect(await received(consumer.id, 'cardiology', 'insight')).toBe(plainReleased + ruledReleased);
      expect(ruledReleased).toBeLessThanOrEqual(4);
      expect(await jobsOf(consumer.id)).toBe(plainReleased + ruledReleased);
      // Sequential check of the count itself: with everything committed, one more ruled release is refused
      // exactly when received + 1 would exceed the allowance (given is 0).
      const more = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: ruled, purpose: 'DUO:0000006' });
      expect([more.status, more.body.code]).toEqual([403, 'RECIPROCITY_UNMET']);
    }
  });

  it('counts releases exactly and moves the version on publishing and withdrawing only', async () => {
    const both = await makeParticipant(ctx, ['consumer', 'provider']);
    const own = await publishDataset(ctx, both, { kind: 'raw', researchField: 'dermatology', title: 'Own lesion images' });
    const theirs = await publishDataset(ctx, provider, { kind: 'raw', researchField: 'dermatology', title: 'Lesion images' });
    const cid = await activeContract(ctx, provider, both, { offerId: await makeOffer(ctx, provider, theirs), maxInvocations: 5 });
    for (const app of [ctx.app, other]) expect((await signed(app, both, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' })).status).toBe(201);
    expect(await received(both.id, 'dermatology', 'raw')).toBe(2);
    // Publishing its own (still withheld) dataset moved every kind of the field once: share-all counts it.
    expect([await version(both.id, 'dermatology', 'raw'), await version(both.id, 'dermatology', 'insight')]).toEqual([1, 1]);
    // Its raw dataset withdrawn: every kind of the field moves (rules of either kind may have counted it), counts stay.
    expect((await signed(ctx.app, both, 'post', `/v1/datasets/${own}/withdraw`, {})).status).toBe(200);
    expect([await version(both.id, 'dermatology', 'raw'), await version(both.id, 'dermatology', 'insight')]).toEqual([2, 2]);
    expect([await received(both.id, 'dermatology', 'raw'), await received(both.id, 'dermatology', 'insight')]).toEqual([2, 0]);
  });

  it('holds a give-to-get rule about another kind than the dataset\'s through the locked path, across processes', async () => {
    // The rule counts raw releases; the guarded dataset is an insight: its releases do not move the count.
    const guardian = await makeParticipant(ctx, ['provider']);
    const rule = await signed(ctx.app, guardian, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: 'nephrology', datasetKind: 'raw', ratio: 1, allowance: 2 });
    const guarded = await publishDataset(ctx, guardian, { kind: 'insight', researchField: 'nephrology', title: 'Guarded dialysis outcomes' });
    const guardedOffer = await makeOffer(ctx, guardian, guarded, { reciprocityRuleIds: [rule.body.id] });
    const raw = await publishDataset(ctx, provider, { kind: 'raw', researchField: 'nephrology', title: 'Open dialysis records' });
    const rawOffer = await makeOffer(ctx, provider, raw);
    for (let round = 0; round < ROUNDS; round++) {
      const consumer = await makeParticipant(ctx, ['consumer']);
      const ruled = await activeContract(ctx, guardian, consumer, { offerId: guardedOffer, maxInvocations: 50 });
      const plain = await activeContract(ctx, provider, consumer, { offerId: rawOffer, maxInvocations: 50 });
      // One raw release first: the rule allows while fewer than 2 raw releases were received.
      expect((await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: plain, purpose: 'DUO:0000006' })).status).toBe(201);
      const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
        signed(i % 2 ? ctx.app : other, consumer, 'post', '/v1/jobs', { contractId: i % 3 === 0 ? plain : ruled, purpose: 'DUO:0000006' })));
      const refusals = results.filter((r) => r.status !== 201).map((r) => r.body.code);
      expect(new Set(refusals)).toEqual(new Set(refusals.length ? ['RECIPROCITY_UNMET'] : []));
      expect(results.filter((r) => r.body.contractId === plain && r.status === 201)).toHaveLength(PARALLEL / 3);
      expect(await received(consumer.id, 'nephrology', 'raw')).toBe(1 + PARALLEL / 3);
      // Afterwards 1 + 8 raw releases were received: no more under the rule.
      expect((await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: ruled, purpose: 'DUO:0000006' })).body.code).toBe('RECIPROCITY_UNMET');
    }
  });

  it('never decides on a kept read past what it cannot re-check: a new rule, the end of one\'s own offer', async () => {
    const sharer = await makeParticipant(ctx, ['consumer', 'provider']);
    const own = await publishDataset(ctx, sharer, { kind: 'raw', researchField: 'hepatology', title: 'Own liver panel' });
    // Its own offer ends in a little while: until then it shares, and a minimum-contribution rule holds.
    await makeOffer(ctx, sharer, own, { validUntil: new Date(Date.now() + 2500).toISOString() });
    await attestDataset(ctx, sharer, own);
    expect((await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'minimum-contribution', researchField: 'hepatology', datasetKind: 'raw', minCount: 1 })).status).toBe(201);
    const theirs = await publishDataset(ctx, provider, { kind: 'raw', researchField: 'hepatology', title: 'Liver panel' });
    const cid = await activeContract(ctx, provider, sharer, { offerId: await makeOffer(ctx, provider, theirs), maxInvocations: 20 });
    const job = () => signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
    expect((await job()).status).toBe(201);
    expect((await job()).status).toBe(201);
    // The offer ends (well within how long a read is kept): the next release is refused.
    await new Promise((r) => setTimeout(r, 2700));
    expect((await job()).body.code).toBe('RECIPROCITY_UNMET');

    // A rule created after a kept read applies to the very next release.
    const other2 = await publishDataset(ctx, sharer, { kind: 'raw', researchField: 'hepatology', title: 'Own liver panel 2' });
    await makeOffer(ctx, sharer, other2);
    await attestDataset(ctx, sharer, other2);
    expect((await job()).status).toBe(201);
    expect((await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'minimum-contribution', researchField: 'hepatology', datasetKind: 'raw', minCount: 2 })).status).toBe(201);
    expect((await job()).body.code).toBe('RECIPROCITY_UNMET');
  });
});

describe('batched releases under rules', () => {
  it('checks each request at its place in the batch: the allowance passes, one more, other rules or a moved version release nothing', async () => {
    const dataset = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'oncology', title: 'Batched outcomes' });
    const consumer = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, provider, consumer, { offerId: await makeOffer(ctx, provider, dataset), maxInvocations: 50 });
    const governing = ((await ctx.ds.query(`SELECT id FROM reciprocity_rules WHERE scope = 'space' AND research_field = 'oncology' AND dataset_kind = 'insight'`)) as Array<{ id: string }>).map((r) => r.id);
    expect(governing.length).toBeGreaterThan(0);
    // RELEASE_AS_CALLER_RULED's 20 values for one request: at most `limit` received after it, decided on `rules` and version `seen`.
    const request = (limit: number, o: { rules?: string[]; seen?: number | null } = {}): unknown[] => {
      const jobId = randomUUID();
      return [
        cid, consumer.id, jobId, 'oncology', 'DUO:0000006', null, 'd'.repeat(64),
        { token: 't', url: 'https://data.hospital.example/x.csv', sha256: 'a'.repeat(64), byteSize: 1, mediaType: 'text/csv', expiresAt: new Date().toISOString(), jti: randomUUID() },
        { job: jobId, contract: cid, consumer: consumer.id }, { purpose: 'DUO:0000006' }, 'authorized', 'download', null, null,
        randomUUID(), new Date(Date.now() + 300_000), consumer.kid, o.rules ?? governing, limit, o.seen ?? null,
      ];
    };
    const before = await snapshotCounts(ctx.ds);
    // Four requests each allowed up to 3 received: the fourth would be the 4th, so the whole batch aborts.
    await expect(releaseBatchAsCallerRuled(ctx.ds, [request(3), request(3), request(3), request(3)])).rejects.toMatchObject({ code: 'TDS01' });
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    // Three with bounds 1, 2, 3: each is exactly at its bound at its place in the batch.
    const rows = await releaseBatchAsCallerRuled(ctx.ds, [request(1), request(2), request(3)]);
    expect(rows.map((r) => [r.fresh, r.ruled, r.invocations_used, r.created_at !== null])).toEqual([[true, true, 1, true], [true, true, 2, true], [true, true, 3, true]]);
    expect(await received(consumer.id, 'oncology', 'insight')).toBe(3);
    expect(await jobsOf(consumer.id)).toBe(3);
    // Decided on other rules than those governing now: not released (the token use is recorded).
    // None, one too many (an unknown id), or the governing ones but one: each a different set.
    const others = [[], [...governing, randomUUID()], governing.length > 1 ? governing.slice(1) : [randomUUID()]];
    const stale = await releaseBatchAsCallerRuled(ctx.ds, others.map((rules) => request(10, { rules })));
    expect(stale.map((r) => [r.fresh, r.created_at])).toEqual([[true, null], [true, null], [true, null]]);
    // Decided on a version the row no longer has: the whole batch aborts.
    const v = await version(consumer.id, 'oncology', 'insight');
    await expect(releaseBatchAsCallerRuled(ctx.ds, [request(10, { seen: v }), request(10, { seen: v + 1 })])).rejects.toMatchObject({ code: 'TDS01' });
    expect(await jobsOf(consumer.id)).toBe(3);
    expect(await received(consumer.id, 'oncology', 'insight')).toBe(3);
  });

  it('runs concurrent requests under rules through batch statements, each released once', async () => {
    // A field of its own with room for every request: give-to-get allowing 100 to whoever gave nothing.
    expect((await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: 'cardiology', datasetKind: 'insight', ratio: 1, allowance: 100 })).status).toBe(201);
    const dataset = await publishDataset(ctx, provider, { kind: 'insight', researchField: 'cardiology', title: 'Echo outcomes' });
    const consumer = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, provider, consumer, { offerId: await makeOffer(ctx, provider, dataset), maxInvocations: 100 });
    // The first release reads and keeps the contract's facts; the burst then decides on that read.
    expect((await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' })).status).toBe(201);
    const stats = ctx.services.jobs.ruledCallerReleases.stats;
    const batchedBefore = stats.batchedRequests;
    const { server, url } = await listenOnLoopback(ctx.app);
    try {
      // Tokens signed before the burst so that the requests really overlap.
      const tokens = await Promise.all(Array.from({ length: 40 }, () => signRequestToken(consumer, 'POST', '/v1/jobs')));
      const results = await Promise.all(tokens.map((t) => fetch(`${url}/v1/jobs`, {
        method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ contractId: cid, purpose: 'DUO:0000006' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { invocationsUsed?: number } }))));
      expect(results.map((r) => r.status)).toEqual(Array(40).fill(201));
      expect(results.map((r) => r.body.invocationsUsed).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await received(consumer.id, 'cardiology', 'insight')).toBe(41);
    expect(stats.batchedRequests).toBeGreaterThan(batchedBefore);
  });
});

