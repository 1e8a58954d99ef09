/**
 * Bad input never reaches PostgreSQL or the encoder (hardening, class 4): NUL
 * characters, lone surrogates, very deep JSON, malformed or crafted ids and
 * cursors, NUL in a token's jti are 4xx problems with nothing written, and
 * concurrent registrations or key rotations with the same key are one success
 * and 409s.
 */
import request from 'supertest';
import { SignJWT, importJWK } from 'jose';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, newKey, publicOf, register, signed, type Actor } from '../helpers/actors.js';
import { datasetBody, publishDataset } from '../helpers/scenario.js';
import { signRequestToken } from '../../src/client/request-token.js';

let ctx: TestContext;
let provider: Actor;
let consumer: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  provider = await makeParticipant(ctx, ['provider']);
  consumer = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

async function expect4xxNoWrite(send: () => Promise<request.Response>, status = 400, code = 'VALIDATION_FAILED'): Promise<request.Response> {
  const before = await snapshotCounts(ctx.ds);
  const res = await send();
  expect([res.status, res.body.code]).toEqual([status, code]);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(await snapshotCounts(ctx.ds)).toEqual(before);
  return res;
}

const raw = (actor: Actor, path: string, text: string) => signed(ctx.app, actor, 'post', path, text, {}, { 'Content-Type': 'application/json' });

describe('text fields', () => {
  it('refuses NUL in any text field, registration included, with a pointer', async () => {
    const key = await newKey();
    const signer = { iss: key.kid, kid: key.kid, privateJwk: key.privateJwk };
    const res = await expect4xxNoWrite(() => signed(ctx.app, signer, 'post', '/v1/participants', { name: 'Evil\u0000Corp', roles: ['consumer'], publicKeyJwk: publicOf(key.privateJwk) }));
    expect(res.body.errors[0].pointer).toBe('/name');
    await expect4xxNoWrite(() => signed(ctx.app, provider, 'post', '/v1/datasets', datasetBody({ description: 'a\u0000b' })));
    await expect4xxNoWrite(() => signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'share-all', researchField: 'onc\u0000ology', datasetKind: 'raw' }));
  });

  it('refuses lone surrogates instead of replacing them (two fields must not collapse into one)', async () => {
    for (const s of ['\\ud800', '\\udfff', 'x\\ud83dy', '\\ude00abc']) {
      await expect4xxNoWrite(() => raw(provider, '/v1/datasets', JSON.stringify(datasetBody({ researchField: 'FIELD' })).replace('FIELD', `onc${s}`)));
      await expect4xxNoWrite(() => raw(ctx.operator as Actor, '/v1/reciprocity-rules', `{"kind":"share-all","researchField":"f${s}","datasetKind":"raw","description":"d"}`));
    }
    // A well-formed pair is fine.
    expect((await raw(provider, '/v1/datasets', JSON.stringify(datasetBody({ title: 'emoji \ud83d\ude00' })))).status).toBe(201);
  });

  it('refuses NUL and lone surrogates in query strings and in property names', async () => {
    await expect4xxNoWrite(() => signed(ctx.app, consumer, 'get', '/v1/datasets?q=a%00b'));
    await expect4xxNoWrite(() => signed(ctx.app, consumer, 'get', '/v1/datasets?researchField=%ED%A0%80'));
    await expect4xxNoWrite(() => raw(provider, '/v1/datasets', JSON.stringify({ ...datasetBody(), 'x\u0000': 1 })));
  });
});

describe('structure', () => {
  it('refuses very deeply nested JSON with 400, not a stack overflow', async () => {
    for (const depth of [100, 10_000, 40_000]) {
      await expect4xxNoWrite(() => raw(provider, '/v1/datasets', `${'['.repeat(depth)}${']'.repeat(depth)}`));
      const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      await expect4xxNoWrite(() => raw(provider, '/v1/datasets', JSON.stringify(datasetBody()).replace(/}$/, `,"schema":${nested}}`)));
    }
  });

  it('refuses huge numbers', async () => {
    const d = await publishDataset(ctx, provider);
    for (const n of ['1e400', '99999999999999999999', '2147483648', '-0.0e-400']) {
      await expect4xxNoWrite(() => raw(provider, `/v1/datasets/${d}/offers`, `{"purposes":["DUO:0000006"],"maxInvocations":${n}}`));
    }
  });
});

describe('ids and cursors', () => {
  it('answers malformed ids in every path with 404 and unknown datasets\' offers with 404', async () => {
    for (const id of ['nope', '%00', '1%20OR%201=1', 'ffffffff-ffff-ffff-ffff-ffffffffffff%00', '%ED%A0%80', '%', '%ZZ', '%C0%80']) {
      for (const path of [`/v1/datasets/${id}`, `/v1/datasets/${id}/offers`, `/v1/offers/${id}`, `/v1/contracts/${id}`, `/v1/jobs/${id}`, `/v1/participants/${id}`, `/v1/jobs/${id}/result`, `/v1/jobs/${id}/receipt`]) {
        const res = await signed(ctx.app, consumer, 'get', path);
        expect([path, res.status]).toEqual([path, res.status === 400 ? 400 : 404]);
      }
    }
    const res = await signed(ctx.app, consumer, 'get', '/v1/datasets/00000000-0000-4000-8000-000000000000/offers');
    expect([res.status, res.body.code]).toEqual([404, 'NOT_FOUND']);
    // The result route's own body reader runs before the edge's guard: the router's decoding refuses there, as a 400.
    for (const id of ['%', '%ZZ', '%C0%80', '%ED%A0%80']) {
      const posted = await signed(ctx.app, provider, 'post', `/v1/jobs/${id}/result`, { result: {}, signature: 'x' });
      expect([id, posted.status, posted.body.code]).toEqual([id, 400, 'VALIDATION_FAILED']);
    }
  });

  it('refuses crafted pagination cursors', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const crafted = [['275760-09-13T00:00:00.000Z', uuid], ['+275760-09-13T00:00:00.000Z', uuid], ['2020-01-01\u0000', uuid], ['Tue, 01 Jan 2030', uuid], ['-271821-04-20T00:00:00.000Z', uuid], ['0', uuid]]
      .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
    for (const cursor of [...crafted, '%00', 'AAAA', Buffer.from('[1,2').toString('base64url')]) {
      for (const path of ['/v1/datasets', '/v1/participants']) {
        const res = await signed(ctx.app, consumer, 'get', `${path}?cursor=${cursor}`);
        expect([path, cursor, res.status, res.body.code]).toEqual([path, cursor, 400, 'VALIDATION_FAILED']);
      }
    }
  });
});

describe('tokens and races', () => {
  it('refuses a token whose jti carries NUL or lone surrogates with 401', async () => {
    for (const jti of ['a\u0000b', 'x\ud800']) {
      const key = await importJWK(consumer.privateJwk, 'EdDSA');
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ htm: 'GET', htu: '/v1/datasets' })
        .setProtectedHeader({ alg: 'EdDSA', kid: consumer.kid }).setIssuer(consumer.iss).setAudience('tds').setIssuedAt(now).setExpirationTime(now + 60).setJti(jti).sign(key);
      const before = await snapshotCounts(ctx.ds);
      const res = await request(ctx.app).get('/v1/datasets').set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.code]).toEqual([401, 'TOKEN_MALFORMED']);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
  });

  it('answers concurrent registrations with the same key with one 201 and 409s', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await newKey();
      const signer = { iss: key.kid, kid: key.kid, privateJwk: key.privateJwk };
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
        signed(ctx.app, signer, 'post', '/v1/participants', { name: `Twin ${round}.${i}`, roles: ['consumer'], publicKeyJwk: publicOf(key.privateJwk) })));
      expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
      expect(new Set(results.filter((r) => r.status === 409).map((r) => r.body.code))).toEqual(new Set(['KEY_ALREADY_REGISTERED']));
    }
  });

  it('answers concurrent key rotations to the same new key with one 200 and 409s', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await makeParticipant(ctx, ['consumer']);
      const b = await makeParticipant(ctx, ['consumer']);
      const next = await newKey();
      const results = await Promise.all([a, b, a, b, a, b].map((p) =>
        signed(ctx.app, p, 'post', `/v1/participants/${p.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) })));
      const codes = results.map((r) => r.status);
      expect(codes.filter((s) => s >= 500)).toEqual([]);
      expect(codes.filter((s) => s === 200 || s === 201)).toHaveLength(1);
    }
  });
});

// Keep the imports honest if a helper moves.
void register;
void signRequestToken;
