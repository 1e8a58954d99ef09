import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, datasetBody, makeOffer, publishDataset, signCanonical } from '../helpers/scenario.js';
import { verifyExportedContract, type ContractDocument } from '../../src/agreements/contract-document.js';
import { publicOf } from '../helpers/actors.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let auditor: Actor;
let stranger: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider'], 'St. Mary Hospital');
  institute = await makeParticipant(ctx, ['consumer'], 'Heart Research Institute');
  auditor = await makeParticipant(ctx, ['auditor']);
  stranger = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

/** Expect a refusal with this status and code, and that nothing was written. */
async function refusedWithoutWrites(send: () => Promise<{ status: number; body: { code?: string } }>, status: number, code: string): Promise<void> {
  const before = await snapshotCounts(ctx.ds);
  const res = await send();
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(await snapshotCounts(ctx.ds)).toEqual(before);
}

describe('end to end: dataset, offer, proposal, two signatures', () => {
  it('activates a contract that anyone can re-verify offline, and detects tampering', async () => {
    const datasetId = await publishDataset(ctx, hospital);
    const offerId = await makeOffer(ctx, hospital, datasetId, { purposes: ['DUO:0000006'], maxInvocations: 50 });
    const proposed = await signed(ctx.app, institute, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000007'], maxInvocations: 5 });
    expect(proposed.status).toBe(201);
    expect(proposed.body).toMatchObject({ state: 'proposed', digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const { id, canonical, document } = proposed.body as { id: string; canonical: string; document: ContractDocument };
    expect(document).toMatchObject({
      type: 'tds.contract.v2',
      provider: { id: hospital.id, kid: hospital.kid, name: 'St. Mary Hospital' },
      consumer: { id: institute.id, kid: institute.kid, name: 'Heart Research Institute' },
      dataset: { id: datasetId, title: 'Cardiology cohort 2024' },
      purposes: ['DUO:0000007'],
      maxInvocations: 5,
    });
    // The names and the title are in the bytes both parties sign, not only beside them.
    for (const text of ['"name":"St. Mary Hospital"', '"name":"Heart Research Institute"', '"title":"Cardiology cohort 2024"']) expect(canonical).toContain(text);

    const s1 = await signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(institute, canonical) });
    expect(s1.body).toEqual({ id, state: 'consumer_signed' });
    const s2 = await signed(ctx.app, hospital, 'post', `/v1/contracts/${id}/signatures`, { kid: hospital.kid, signature: signCanonical(hospital, canonical) });
    expect(s2.body).toEqual({ id, state: 'active' });

    const got = await signed(ctx.app, auditor, 'get', `/v1/contracts/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, state: 'active', invocationsUsed: 0, invocationsRemaining: 5 });
    expect(got.body.signatures).toHaveLength(2);

    const keys = { [hospital.kid]: publicOf(hospital.privateJwk), [institute.kid]: publicOf(institute.privateJwk) };
    expect(verifyExportedContract(got.body, keys)).toMatchObject({ ok: true, problems: [] });
    // Changing any field of the document breaks verification.
    const renamed = {
      provider: { ...document.provider, name: 'St. Mary Hospital (Trust)' },
      dataset: { ...document.dataset, title: 'Oncology cohort 2024' },
    };
    const tampers: Array<[string, unknown]> = [
      ...Object.entries({ maxInvocations: 500, purposes: ['DUO:0000042'], validUntil: '2999-01-01T00:00:00.000Z', consumer: { id: stranger.id, kid: stranger.kid }, ...renamed }),
      ['consumer', { ...document.consumer, name: 'Another Institute' }],
    ];
    for (const [field, value] of tampers) {
      const tampered = { ...got.body, document: { ...got.body.document, [field]: value } };
      expect(verifyExportedContract(tampered, keys).ok).toBe(false);
      const noCanonical = { ...tampered, canonical: undefined, digest: undefined };
      expect(verifyExportedContract(noCanonical, keys).ok).toBe(false);
    }
  });
});

describe('proposal refusals write nothing', () => {
  let datasetId: string;
  let offerId: string;
  beforeAll(async () => {
    datasetId = await publishDataset(ctx, hospital);
    offerId = await makeOffer(ctx, hospital, datasetId, { purposes: ['DUO:0000006'], maxInvocations: 10 });
  });

  it('refuses purposes broader than the offer, unknown purposes, too many invocations, a window outside the offer', async () => {
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000042'], maxInvocations: 1 }), 403, 'PURPOSE_NOT_ALLOWED');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId, purposes: ['DUO:9999999'], maxInvocations: 1 }), 403, 'PURPOSE_NOT_ALLOWED');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations: 11 }), 403, 'TERMS_EXCEED_OFFER');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations: 1, validUntil: '2999-01-01T00:00:00Z' }), 403, 'TERMS_EXCEED_OFFER');
  });

  it('refuses bad bodies, unknown offers and the wrong role', async () => {
    for (const body of [{}, { offerId, purposes: [], maxInvocations: 1 }, { offerId, purposes: ['DUO:0000006'], maxInvocations: 0 }, { offerId, purposes: ['DUO:0000006'], maxInvocations: '1' }, { offerId, purposes: ['DUO:0000006'], maxInvocations: 1, extra: true }, { offerId: 'x'.repeat(100000), purposes: ['DUO:0000006'], maxInvocations: 1 }]) {
      await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', body), 400, 'VALIDATION_FAILED');
    }
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: '00000000-0000-4000-8000-000000000000', purposes: ['DUO:0000006'], maxInvocations: 1 }), 404, 'NOT_FOUND');
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations: 1 }), 403, 'ROLE_REQUIRED');
  });

  it('refuses a proposal on a withdrawn dataset', async () => {
    const d = await publishDataset(ctx, hospital);
    const o = await makeOffer(ctx, hospital, d);
    expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/withdraw`)).status).toBe(200);
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: o, purposes: ['DUO:0000006'], maxInvocations: 1 }), 403, 'DATASET_WITHDRAWN');
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1 }), 403, 'DATASET_WITHDRAWN');
  });
});

describe('signature refusals', () => {
  let id: string;
  let canonical: string;
  beforeEach(async () => {
    const d = await publishDataset(ctx, hospital);
    const o = await makeOffer(ctx, hospital, d);
    const res = await signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: o, purposes: ['DUO:0000006'], maxInvocations: 3 });
    ({ id, canonical } = res.body as { id: string; canonical: string });
  });

  it('refuses the provider signing first, wrong bytes, a wrong key, a second signature and outsiders', async () => {
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/contracts/${id}/signatures`, { kid: hospital.kid, signature: signCanonical(hospital, canonical) }), 409, 'SIGNATURE_OUT_OF_ORDER');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(institute, canonical + ' ') }), 400, 'INVALID_SIGNATURE');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: stranger.kid, signature: signCanonical(stranger, canonical) }), 400, 'INVALID_SIGNATURE');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(stranger, canonical) }), 400, 'INVALID_SIGNATURE');
    await refusedWithoutWrites(() => signed(ctx.app, stranger, 'post', `/v1/contracts/${id}/signatures`, { kid: stranger.kid, signature: signCanonical(stranger, canonical) }), 403, 'FORBIDDEN');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: 'abc' }), 400, 'VALIDATION_FAILED');
    expect((await signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(institute, canonical) })).status).toBe(200);
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(institute, canonical) }), 409, 'ALREADY_SIGNED');
  });

  it('lets only parties, the operator and auditors read; provider or operator revoke with a reason', async () => {
    expect((await signed(ctx.app, stranger, 'get', `/v1/contracts/${id}`)).body.code).toBe('FORBIDDEN');
    expect((await signed(ctx.app, ctx.operator, 'get', `/v1/contracts/${id}`)).status).toBe(200);
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/contracts/${id}/revoke`, {}), 400, 'VALIDATION_FAILED');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/revoke`, { reason: 'x' }), 403, 'ROLE_REQUIRED');
    const r = await signed(ctx.app, hospital, 'post', `/v1/contracts/${id}/revoke`, { reason: 'ethics approval withdrawn' });
    expect(r.body).toMatchObject({ id, state: 'revoked', revokeReason: 'ethics approval withdrawn' });
    await refusedWithoutWrites(() => signed(ctx.app, ctx.operator, 'post', `/v1/contracts/${id}/revoke`, { reason: 'again' }), 409, 'INVALID_STATE_TRANSITION');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', `/v1/contracts/${id}/signatures`, { kid: institute.kid, signature: signCanonical(institute, canonical) }), 403, 'CONTRACT_REVOKED');
  });

  it('keeps a contract verifiable after the signer rotates its key', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    const got = await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`);
    expect(got.body.state).toBe('active');
    const keys = { [hospital.kid]: publicOf(hospital.privateJwk), [institute.kid]: publicOf(institute.privateJwk) };
    expect(verifyExportedContract(got.body, keys).ok).toBe(true);
  });
});

describe('datasets and catalog', () => {
  it('refuses bad dataset bodies and URLs with nothing written', async () => {
    const bad = [
      {}, datasetBody({ title: '' }), datasetBody({ kind: 'secret' }), datasetBody({ extra: 1 }), datasetBody({ title: 'x'.repeat(301) }),
      datasetBody({ distribution: { url: 'https://a.example/x', sha256: 'XYZ', byteSize: 1, mediaType: 'text/csv' } }),
      datasetBody({ distribution: { url: 'https://a.example/x', sha256: 'a'.repeat(64), byteSize: -1, mediaType: 'text/csv' } }),
      datasetBody({ researchField: ' cardiology' }),
    ];
    for (const body of bad) await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', '/v1/datasets', body), 400, 'VALIDATION_FAILED');
    await refusedWithoutWrites(() => signed(ctx.app, institute, 'post', '/v1/datasets', datasetBody()), 403, 'ROLE_REQUIRED');
    await refusedWithoutWrites(() => signed(ctx.app, auditor, 'post', '/v1/datasets', datasetBody({ kind: 'insight' })), 403, 'ROLE_REQUIRED');
  });

  it('applies the URL rule outside development mode', async () => {
    const strict = await createTestContext({ TDS_DEV_MODE: 'false' });
    try {
      const p = await makeParticipant(strict, ['provider']);
      for (const url of ['http://data.hospital.example/x', 'https://127.0.0.1/x', 'https://10.0.0.8/x', 'https://localhost/x']) {
        const body = datasetBody();
        (body.distribution as { url: string }).url = url;
        const res = await signed(strict.app, p, 'post', '/v1/datasets', body);
        expect([url, res.status, res.body.code]).toEqual([url, 400, 'VALIDATION_FAILED']);
      }
      expect((await signed(strict.app, p, 'post', '/v1/datasets', datasetBody())).status).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it('filters together and paginates stably under concurrent inserts', async () => {
    const prov = await makeParticipant(ctx, ['provider']);
    for (let i = 0; i < 7; i++) await publishDataset(ctx, prov, { researchField: 'nephrology', kind: i % 2 ? 'insight' : 'raw', title: `Kidney set ${i}` });
    await publishDataset(ctx, prov, { researchField: 'hepatology', title: 'Kidney-liver' });
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const q: string = `/v1/datasets?researchField=nephrology&provider=${prov.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await signed(ctx.app, institute, 'get', q);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((d: { id: string }) => d.id));
      cursor = res.body.nextCursor;
      // Inserts between pages must neither repeat nor hide the rows that existed.
      if (page++ === 0) await Promise.all([1, 2, 3].map((i) => publishDataset(ctx, prov, { researchField: 'nephrology', title: `Late ${i}` })));
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(10);
    const insight = await signed(ctx.app, institute, 'get', `/v1/datasets?researchField=nephrology&kind=insight&provider=${prov.id}&q=kidney`);
    expect(insight.body.items.map((d: { kind: string; researchField: string }) => [d.kind, d.researchField])).toEqual([['insight', 'nephrology'], ['insight', 'nephrology'], ['insight', 'nephrology']]);
    expect((await signed(ctx.app, institute, 'get', '/v1/datasets?limit=0')).body.code).toBe('VALIDATION_FAILED');
    expect((await signed(ctx.app, institute, 'get', '/v1/datasets?cursor=garbage')).body.code).toBe('VALIDATION_FAILED');
    expect((await signed(ctx.app, institute, 'get', '/v1/datasets?kind=secret')).body.code).toBe('VALIDATION_FAILED');
  });

  it('lets only the owner withdraw, and shows withdrawn datasets as withdrawn', async () => {
    const d = await publishDataset(ctx, hospital);
    const other = await makeParticipant(ctx, ['provider']);
    await refusedWithoutWrites(() => signed(ctx.app, other, 'post', `/v1/datasets/${d}/withdraw`), 403, 'NOT_OWNER');
    expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/withdraw`)).body.status).toBe('withdrawn');
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/withdraw`), 409, 'INVALID_STATE_TRANSITION');
    expect((await signed(ctx.app, institute, 'get', `/v1/datasets/${d}`)).body).toMatchObject({ id: d, status: 'withdrawn' });
    expect((await signed(ctx.app, institute, 'get', '/v1/datasets/not-a-uuid')).body.code).toBe('NOT_FOUND');
  });

  it('refuses bad offers with nothing written', async () => {
    const d = await publishDataset(ctx, hospital);
    for (const body of [{}, { purposes: ['DUO:0000006'] }, { purposes: ['DUO:0000006'], maxInvocations: 0 }, { purposes: 'DUO:0000006', maxInvocations: 1 }, { purposes: ['DUO:0000006'], maxInvocations: 1, validFrom: 'yesterday' }]) {
      await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, body), 400, 'VALIDATION_FAILED');
    }
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1, validFrom: '2030-01-02T00:00:00Z', validUntil: '2030-01-01T00:00:00Z' }), 400, 'VALIDATION_FAILED');
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['XYZ:0000001'], maxInvocations: 1 }), 400, 'VALIDATION_FAILED');
    await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1, reciprocityRuleIds: ['00000000-0000-4000-8000-000000000000'] }), 422, 'UNKNOWN_RULE');
    const other = await makeParticipant(ctx, ['provider']);
    await refusedWithoutWrites(() => signed(ctx.app, other, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1 }), 403, 'NOT_OWNER');
    const ok = await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 1, access: 'download', price: { perInvocation: '12.50', currency: 'EUR' } });
    expect(ok.body).toMatchObject({ datasetId: d, price: { perInvocation: '12.50', currency: 'EUR' }, status: 'active' });
    expect((await signed(ctx.app, institute, 'get', `/v1/offers/${ok.body.id}`)).body.id).toBe(ok.body.id);
  });
});

describe('dataset titles are signed into contracts', () => {
  it('refuses a title with bidirectional overrides or invisible characters, writing nothing', async () => {
    for (const title of ['Cardiology\u202e4202 trohoc', 'Cohort\u200b', '\ufeffCohort']) {
      await refusedWithoutWrites(() => signed(ctx.app, hospital, 'post', '/v1/datasets', datasetBody({ title })), 400, 'VALIDATION_FAILED');
    }
  });
});
