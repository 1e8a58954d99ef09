/**
 * State gaps (hardening, class 10): what a request may do is decided on the
 * state at the database's time, and a refusal is recorded without writing
 * into the trail of parties that did not take part.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer, publishDataset, signCanonical } from '../helpers/scenario.js';
import { newKey, publicOf } from '../helpers/actors.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let intruder: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  intruder = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

async function entries(filter: Record<string, string>, kind = 'job.denied'): Promise<Array<{ subjects: Record<string, string>; data: Record<string, unknown> }>> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify(filter)])) as Array<{ entry: string }>;
  return rows.map((r) => JSON.parse(r.entry) as { subjects: Record<string, string>; data: Record<string, unknown> });
}

describe('a non-party\'s job attempt', () => {
  it('is refused and recorded under the requester alone, not in the contract parties\' trail', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    const res = await signed(ctx.app, intruder, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
    expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(await entries({ contract: cid })).toEqual([]);
    const mine = await entries({ requester: intruder.id });
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ subjects: { requester: intruder.id }, data: { reason: 'FORBIDDEN', contractId: cid } });
    expect(mine[0]!.subjects).not.toHaveProperty('consumer');
  });
});

async function propose(consumer: Actor, offerId: string): Promise<{ id: string; canonical: string; document: { consumer: { kid: string }; provider: { kid: string } } }> {
  const res = await signed(ctx.app, consumer, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations: 2 });
  expect(res.status).toBe(201);
  return res.body;
}
const sign = (party: Actor, id: string, canonical: string) =>
  signed(ctx.app, party, 'post', `/v1/contracts/${id}/signatures`, { kid: party.kid, signature: signCanonical(party, canonical) });

describe('signing is checked against the state at the database\'s time', () => {
  it('refuses either signature once the window has ended, before any sweep marks it expired', async () => {
    const offer = await makeOffer(ctx, hospital, await publishDataset(ctx, hospital));
    for (const afterConsumer of [false, true]) {
      const p = await propose(institute, offer);
      if (afterConsumer) expect((await sign(institute, p.id, p.canonical)).status).toBe(200);
      await ctx.ds.query(`UPDATE contracts SET valid_until = now() - interval '1 second' WHERE id = $1`, [p.id]);
      const res = await sign(afterConsumer ? hospital : institute, p.id, p.canonical);
      expect([res.status, res.body.code]).toEqual([403, 'CONTRACT_EXPIRED']);
      expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${p.id}`)).body.state).toBe('expired');
    }
  });

  it('refuses to sign (and so to activate) a contract on a withdrawn dataset', async () => {
    for (const afterConsumer of [false, true]) {
      const d = await publishDataset(ctx, hospital);
      const p = await propose(institute, await makeOffer(ctx, hospital, d));
      if (afterConsumer) expect((await sign(institute, p.id, p.canonical)).status).toBe(200);
      expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/withdraw`)).status).toBe(200);
      const res = await sign(afterConsumer ? hospital : institute, p.id, p.canonical);
      expect([res.status, res.body.code]).toEqual([403, 'DATASET_WITHDRAWN']);
      expect(await entries({ contract: p.id }, 'contract.activated')).toEqual([]);
    }
  });
});

describe('signatures by rotated-out keys', () => {
  it('are refused; a re-issued proposal names the current key and signs', async () => {
    const offer = await makeOffer(ctx, hospital, await publishDataset(ctx, hospital));
    const consumer = await makeParticipant(ctx, ['consumer']);
    const p = await propose(consumer, offer);
    // The consumer rotates, then signs with the old (still named) key: a signature made after the rotation.
    const next = await newKey();
    expect((await signed(ctx.app, consumer, 'post', `/v1/participants/${consumer.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) })).status).toBe(200);
    const rotated: Actor = { ...consumer, kid: next.kid, privateJwk: next.privateJwk };
    const stale = await signed(ctx.app, rotated, 'post', `/v1/contracts/${p.id}/signatures`, { kid: consumer.kid, signature: signCanonical(consumer, p.canonical) });
    expect([stale.status, stale.body.code]).toEqual([409, 'SIGNING_KEY_ROTATED']);
    // Re-issued: proposing again names the current key, and that proposal signs.
    const again = await propose(rotated, offer);
    expect(again.document.consumer.kid).toBe(next.kid);
    expect((await sign(rotated, again.id, again.canonical)).status).toBe(200);
    expect((await sign(hospital, again.id, again.canonical)).body.state).toBe('active');
  });

  it('refuses the provider\'s countersignature with a key it rotated out after the proposal', async () => {
    const provider = await makeParticipant(ctx, ['provider']);
    const offer = await makeOffer(ctx, provider, await publishDataset(ctx, provider));
    const p = await propose(institute, offer);
    expect((await sign(institute, p.id, p.canonical)).status).toBe(200);
    const next = await newKey();
    expect((await signed(ctx.app, provider, 'post', `/v1/participants/${provider.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) })).status).toBe(200);
    const rotated: Actor = { ...provider, kid: next.kid, privateJwk: next.privateJwk };
    const res = await signed(ctx.app, rotated, 'post', `/v1/contracts/${p.id}/signatures`, { kid: provider.kid, signature: signCanonical(provider, p.canonical) });
    expect([res.status, res.body.code]).toEqual([409, 'SIGNING_KEY_ROTATED']);
  });
});
