/**
 * Exact prices on offers and in the signed contract document: decimal strings
 * with the currency's ISO 4217 minor-unit digits, refused with a pointer and
 * nothing written otherwise; legacy numbers only when exact.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, publishDataset } from '../helpers/scenario.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let datasetId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  datasetId = await publishDataset(ctx, hospital);
});
afterAll(() => ctx.close());

const offer = (extra: Record<string, unknown>) => signed(ctx.app, hospital, 'post', `/v1/datasets/${datasetId}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 5, access: 'download', ...extra });

describe('offer prices', () => {
  it.each([
    [{ price: { perInvocation: '12.50', currency: 'EUR' } }, { perInvocation: '12.50', currency: 'EUR' }],
    [{ price: { perInvocation: '150', currency: 'JPY' } }, { perInvocation: '150', currency: 'JPY' }],
    [{ price: { perInvocation: '1.500', currency: 'BHD' } }, { perInvocation: '1.500', currency: 'BHD' }],
    [{ price: { perInvocation: '0', currency: 'EUR' } }, { perInvocation: '0.00', currency: 'EUR' }],
    [{ pricePerInvocation: 12.5 }, { perInvocation: '12.50', currency: 'EUR' }],
    [{ pricePerInvocation: 0.1, currency: 'USD' }, { perInvocation: '0.10', currency: 'USD' }],
    [{ pricePerInvocation: 150, currency: 'JPY' }, { perInvocation: '150', currency: 'JPY' }],
    [{}, null],
  ])('stores %j exactly as %j, in the offer and the signed contract document', async (body, price) => {
    const res = await offer(body);
    expect(res.status).toBe(201);
    expect(res.body.price).toEqual(price);
    expect(res.body).not.toHaveProperty('pricePerInvocation');
    expect((await signed(ctx.app, institute, 'get', `/v1/offers/${res.body.id}`)).body.price).toEqual(price);
    const contractId = await activeContract(ctx, hospital, institute, { datasetId, offerId: res.body.id as string, maxInvocations: 2 });
    const c = await signed(ctx.app, institute, 'get', `/v1/contracts/${contractId}`);
    expect(c.body.document.price).toEqual(price);
    // RFC 8785 sorts keys: the signed bytes carry the amount as a string, never a number.
    expect(c.body.canonical).toContain(`"price":${price ? `{"currency":"${price.currency}","perInvocation":"${price.perInvocation}"}` : 'null'}`);
    const events = (await ctx.ds.query(`SELECT kind, data FROM ledger_queue WHERE subjects->>'contract' = $1 AND kind IN ('contract.proposed', 'contract.activated') ORDER BY id`, [contractId])) as Array<{ kind: string; data: { price: unknown } }>;
    expect(events.map((e) => [e.kind, e.data.price])).toEqual([['contract.proposed', price], ['contract.activated', price]]);
    const stored = (await ctx.ds.query(`SELECT price_per_invocation::text AS p, pg_typeof(price_per_invocation)::text AS t FROM offers WHERE id = $1`, [res.body.id])) as Array<{ p: string | null; t: string }>;
    expect(stored[0]).toEqual({ p: price?.perInvocation ?? null, t: 'numeric' });
  });

  it.each([
    [{ price: { perInvocation: '12.345', currency: 'EUR' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '12.5', currency: 'EUR' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '1.5', currency: 'JPY' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '1.50', currency: 'BHD' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '-1.00', currency: 'EUR' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '1e2', currency: 'JPY' } }, '/price/perInvocation'],
    [{ price: { perInvocation: 12.5, currency: 'EUR' } }, '/price/perInvocation'],
    [{ price: { perInvocation: '12.50', currency: 'ABC' } }, '/price/currency'],
    [{ price: { perInvocation: '12.50', currency: 'XXX' } }, '/price/currency'],
    [{ price: { perInvocation: '12.50', currency: 'eur' } }, '/price/currency'],
    [{ price: { perInvocation: '12.50' } }, '/price/currency'],
    [{ price: { perInvocation: '12.50', currency: 'EUR' }, pricePerInvocation: 12.5 }, '/pricePerInvocation'],
    [{ pricePerInvocation: 12.345 }, '/pricePerInvocation'],
    [{ pricePerInvocation: 1.5, currency: 'JPY' }, '/pricePerInvocation'],
    [{ pricePerInvocation: -1 }, '/pricePerInvocation'],
    [{ pricePerInvocation: 1, currency: 'ABC' }, '/currency'],
    [{ currency: 'EUR' }, '/currency'],
  ])('refuses %j with a pointer to %s and writes nothing', async (body, pointer) => {
    const before = await snapshotCounts(ctx.ds);
    const res = await offer(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect((res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toContain(pointer);
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });
});
