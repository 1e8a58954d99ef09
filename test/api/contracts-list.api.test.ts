/**
 * GET /v1/contracts: each party sees only the contracts it is a party of (by
 * role, by state, the provider's "to countersign" list), the operator and
 * auditors see every contract, pages follow each other without duplicates or
 * gaps even while contracts are proposed between two page reads, and bad
 * filters are 400 VALIDATION_FAILED.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer, publishDataset, signCanonical } from '../helpers/scenario.js';

let ctx: TestContext;
let hospital: Actor;
let lab: Actor;
let institute: Actor;
let uni: Actor;
let outsider: Actor;
let auditor: Actor;
let hospitalDataset: string;
let hospitalOffer: string;
let labOffer: string;
const ids: Record<string, string> = {};

interface Item { id: string; state: string; datasetTitle: string; provider: { id: string; name: string }; consumer: { id: string; name: string } }

/** Propose from an offer; sign as the consumer, and then as the provider, as far as `until` says. */
async function contract(consumer: Actor, provider: Actor, offerId: string, until: 'proposed' | 'consumer_signed' | 'active', maxInvocations = 4): Promise<string> {
  const proposed = await signed(ctx.app, consumer, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations });
  expect(proposed.status).toBe(201);
  const { id, canonical } = proposed.body as { id: string; canonical: string };
  const signers = until === 'proposed' ? [] : until === 'consumer_signed' ? [consumer] : [consumer, provider];
  for (const party of signers) {
    expect((await signed(ctx.app, party, 'post', `/v1/contracts/${id}/signatures`, { kid: party.kid, signature: signCanonical(party, canonical) })).status).toBe(200);
  }
  return id;
}

async function list(actor: Actor, query = ''): Promise<Item[]> {
  const res = await signed(ctx.app, actor, 'get', `/v1/contracts${query ? `?${query}` : ''}`);
  expect(res.status).toBe(200);
  return res.body.items as Item[];
}

const idsOf = (items: Item[]) => items.map((i) => i.id);

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider'], 'St. Mary Hospital');
  lab = await makeParticipant(ctx, ['provider'], 'Example Lab');
  institute = await makeParticipant(ctx, ['consumer'], 'Heart Institute');
  uni = await makeParticipant(ctx, ['consumer'], 'City University');
  outsider = await makeParticipant(ctx, ['provider', 'consumer'], 'Outsider');
  auditor = await makeParticipant(ctx, ['auditor'], 'Ethics Board');
  hospitalDataset = await publishDataset(ctx, hospital, { title: 'Heart failure cohort' });
  hospitalOffer = await makeOffer(ctx, hospital, hospitalDataset);
  labOffer = await makeOffer(ctx, lab, await publishDataset(ctx, lab, { title: 'Lab values 2024' }));
  // In creation order: what every list below expects.
  ids.active = await contract(institute, hospital, hospitalOffer, 'active');
  ids.toCountersign = await contract(institute, hospital, hospitalOffer, 'consumer_signed');
  ids.proposed = await contract(institute, hospital, hospitalOffer, 'proposed');
  ids.uniAtLab = await contract(uni, lab, labOffer, 'active');
  ids.uniToCountersign = await contract(uni, hospital, hospitalOffer, 'consumer_signed');
});
afterAll(() => ctx.close());

describe('GET /v1/contracts', () => {
  it('shows a party only its own contracts, with the dataset title and both names', async () => {
    expect(idsOf(await list(institute))).toEqual([ids.active, ids.toCountersign, ids.proposed]);
    expect(idsOf(await list(institute, 'role=consumer'))).toEqual([ids.active, ids.toCountersign, ids.proposed]);
    expect(await list(institute, 'role=provider')).toEqual([]);
    expect(idsOf(await list(uni))).toEqual([ids.uniAtLab, ids.uniToCountersign]);
    expect(idsOf(await list(hospital))).toEqual([ids.active, ids.toCountersign, ids.proposed, ids.uniToCountersign]);
    expect(idsOf(await list(lab, 'role=provider'))).toEqual([ids.uniAtLab]);
    expect(await list(lab, 'role=consumer')).toEqual([]);
    // Another consumer and provider see none of them, whatever they ask.
    for (const q of ['', 'role=provider', 'role=consumer', 'state=active']) expect(await list(outsider, q)).toEqual([]);

    const [item] = await list(lab);
    const got = (await signed(ctx.app, lab, 'get', `/v1/contracts/${ids.uniAtLab}`)).body;
    expect(item).toEqual({
      id: ids.uniAtLab, state: 'active', access: 'download', digest: got.digest, offerId: labOffer, datasetId: got.document.dataset.id, datasetTitle: 'Lab values 2024',
      providerId: lab.id, consumerId: uni.id, provider: { id: lab.id, name: 'Example Lab' }, consumer: { id: uni.id, name: 'City University' },
      purposes: ['DUO:0000006'], maxInvocations: 4, invocationsUsed: 0, invocationsRemaining: 4,
      validFrom: got.document.validFrom, validUntil: got.document.validUntil, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('filters by state: the provider\'s list to countersign, the consumer\'s to sign', async () => {
    expect(idsOf(await list(hospital, 'role=provider&state=consumer_signed'))).toEqual([ids.toCountersign, ids.uniToCountersign]);
    expect(idsOf(await list(lab, 'role=provider&state=consumer_signed'))).toEqual([]);
    expect(idsOf(await list(institute, 'role=consumer&state=proposed'))).toEqual([ids.proposed]);
    expect(idsOf(await list(institute, 'state=active'))).toEqual([ids.active]);
    expect(await list(institute, 'state=revoked')).toEqual([]);
    expect((await signed(ctx.app, hospital, 'post', `/v1/contracts/${ids.proposed}/revoke`, { reason: 'withdrawn before signing' })).status).toBe(200);
    expect(idsOf(await list(institute, 'state=revoked'))).toEqual([ids.proposed]);
    expect(await list(institute, 'role=consumer&state=proposed')).toEqual([]);
  });

  it('counts invocations as GET /v1/contracts/:id does', async () => {
    expect((await signed(ctx.app, uni, 'post', '/v1/jobs', { contractId: ids.uniAtLab, purpose: 'DUO:0000006' })).status).toBe(201);
    expect((await list(uni, 'state=active'))[0]).toMatchObject({ id: ids.uniAtLab, invocationsUsed: 1, invocationsRemaining: 3 });
  });

  it('shows an open contract past its window as expired, before the sweeper marks it', async () => {
    const offer = await makeOffer(ctx, hospital, hospitalDataset, { validUntil: new Date(Date.now() + 3000).toISOString() });
    const id = await contract(institute, hospital, offer, 'proposed');
    expect(idsOf(await list(institute, 'state=proposed'))).toEqual([id]);
    // Wait for the window to pass, as GET /v1/contracts/:id sees it (no background sweeper runs in this context).
    while ((await signed(ctx.app, institute, 'get', `/v1/contracts/${id}`)).body.state !== 'expired') await new Promise((r) => setTimeout(r, 200));
    expect(await list(institute, 'state=proposed')).toEqual([]);
    expect(idsOf(await list(institute, 'state=expired'))).toEqual([id]);
    expect(((await ctx.ds.query('SELECT state FROM contracts WHERE id = $1', [id])) as Array<{ state: string }>)[0]!.state).toBe('proposed');
    ids.expired = id;
  });

  it('lets the operator and auditors list every contract, page by page, without duplicates or gaps', async () => {
    const all = [ids.active, ids.toCountersign, ids.proposed, ids.uniAtLab, ids.uniToCountersign, ids.expired];
    const operator = { ...ctx.operator, id: ctx.operator.iss };
    expect(idsOf(await list(auditor))).toEqual(all);
    expect(idsOf(await list(operator))).toEqual(all);
    // The operator holds no provider or consumer role: by role it has no contracts of its own.
    expect(await list(operator, 'role=provider')).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: Item[]; nextCursor: string | null } } = await signed(ctx.app, auditor, 'get', `/v1/contracts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...idsOf(res.body.items));
      cursor = res.body.nextCursor;
      // A contract proposed between two page reads comes last, exactly once.
      if (++pages === 1) all.push(await activeContract(ctx, lab, institute, { offerId: labOffer }));
    } while (cursor);
    expect(seen).toEqual(all);
    expect(pages).toBe(4);
  });

  it('refuses bad filters with 400 VALIDATION_FAILED', async () => {
    const garbage = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    for (const q of ['role=operator', 'role=reviewer', 'role=provider&role=consumer', 'state=signed', 'state=', 'limit=0', 'limit=201', 'limit=1e400', 'limit=two', 'cursor=xyz', `cursor=${garbage}`, 'x=1']) {
      const r = await signed(ctx.app, institute, 'get', `/v1/contracts?${q}`);
      expect({ q, status: r.status, type: r.type, code: r.body.code }).toEqual({ q, status: 400, type: 'application/problem+json', code: 'VALIDATION_FAILED' });
    }
  });
});
