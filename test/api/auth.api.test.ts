import request from 'supertest';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, newKey, publicOf, register, signed, type Actor } from '../helpers/actors.js';
import { signRequestToken } from '../../src/client/request-token.js';

let ctx: TestContext;
let alice: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  alice = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

async function expectProblem(res: request.Response, status: number, code: string): Promise<void> {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toEqual(expect.objectContaining({ type: expect.any(String), title: expect.any(String), detail: expect.any(String), status }));
}

describe('request authentication', () => {
  const path = () => `/v1/participants/${alice.id}`;

  it('lets a valid token through', async () => {
    const res = await signed(ctx.app, alice, 'get', path());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: alice.id, status: 'active', kid: alice.kid });
  });

  it('refuses a missing or malformed Authorization header', async () => {
    await expectProblem(await request(ctx.app).get(path()), 401, 'AUTH_REQUIRED');
    await expectProblem(await request(ctx.app).get(path()).set('Authorization', 'Bearer nope'), 401, 'TOKEN_MALFORMED');
    await expectProblem(await request(ctx.app).get(path()).set('Authorization', 'Basic dXNlcjpwdw=='), 401, 'TOKEN_MALFORMED');
  });

  it('refuses a forged signature', async () => {
    const other = await newKey();
    const forged = await signRequestToken({ ...alice, privateJwk: other.privateJwk }, 'GET', path());
    await expectProblem(await request(ctx.app).get(path()).set('Authorization', `Bearer ${forged}`), 401, 'TOKEN_SIGNATURE_INVALID');
    // A signature byte flipped.
    const good = await signRequestToken(alice, 'GET', path());
    const [h, p, s] = good.split('.');
    const flipped = `${h}.${p}.${s![0] === 'A' ? 'B' : 'A'}${s!.slice(1)}`;
    await expectProblem(await request(ctx.app).get(path()).set('Authorization', `Bearer ${flipped}`), 401, 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses an unknown kid', async () => {
    const other = await newKey();
    const res = await signed(ctx.app, { iss: alice.id, kid: other.kid, privateJwk: other.privateJwk }, 'get', path());
    await expectProblem(res, 401, 'UNKNOWN_KEY');
  });

  it('refuses an expired token and one living longer than 300 s', async () => {
    const old = Math.floor(Date.now() / 1000) - 1000;
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { iat: old, exp: old + 60 }), 401, 'TOKEN_EXPIRED');
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { iat: now, exp: now + 301 }), 401, 'TOKEN_LIFETIME_TOO_LONG');
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { iat: now + 600, exp: now + 660 }), 401, 'TOKEN_NOT_YET_VALID');
    // exp at or before iat, each still inside the 30 s clock-skew allowance: no lifetime at all.
    for (const [iat, exp] of [[now + 20, now + 10], [now, now - 1], [now, now - 25], [now, now]]) {
      await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { iat, exp }), 401, 'TOKEN_MALFORMED');
    }
    expect((await signed(ctx.app, alice, 'get', path(), undefined, { iat: now, exp: now + 1 })).status).toBe(200);
  });

  it('refuses a replayed jti', async () => {
    const token = await signRequestToken(alice, 'GET', path());
    expect((await request(ctx.app).get(path()).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await expectProblem(await request(ctx.app).get(path()).set('Authorization', `Bearer ${token}`), 401, 'TOKEN_REPLAYED');
  });

  it('refuses a wrong audience, issuer, method or path', async () => {
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { audience: 'another-space' }), 401, 'TOKEN_AUDIENCE_MISMATCH');
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { iss: ctx.operator.iss }), 401, 'TOKEN_ISSUER_MISMATCH');
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { htm: 'POST' }), 401, 'TOKEN_BINDING_MISMATCH');
    await expectProblem(await signed(ctx.app, alice, 'get', path(), undefined, { htu: '/v1/participants' }), 401, 'TOKEN_BINDING_MISMATCH');
  });

  it('binds htu to the path without the query string', async () => {
    const token = await signRequestToken(alice, 'GET', '/v1/participants');
    const res = await request(ctx.app).get('/v1/participants?limit=1').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
  });

  it('refuses pending and suspended participants with PARTICIPANT_NOT_ACTIVE', async () => {
    const { actor: pending } = await register(ctx.app, { roles: ['consumer'] });
    await expectProblem(await signed(ctx.app, pending, 'get', `/v1/participants/${pending.id}`), 401, 'PARTICIPANT_NOT_ACTIVE');
    const bob = await makeParticipant(ctx, ['provider']);
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${bob.id}/suspend`)).body.status).toBe('suspended');
    await expectProblem(await signed(ctx.app, bob, 'get', `/v1/participants/${bob.id}`), 401, 'PARTICIPANT_NOT_ACTIVE');
    // Approving again reinstates it.
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${bob.id}/approve`)).status).toBe(200);
    expect((await signed(ctx.app, bob, 'get', `/v1/participants/${bob.id}`)).status).toBe(200);
  });

  it('refuses a rotated-out key and accepts the new one', async () => {
    const carol = await makeParticipant(ctx, ['consumer']);
    const next = await newKey();
    const res = await signed(ctx.app, carol, 'post', `/v1/participants/${carol.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) });
    expect(res.status).toBe(200);
    expect(res.body.kid).toBe(next.kid);
    expect(res.body.keys).toHaveLength(2);
    expect(res.body.keys[0].revokedAt).not.toBeNull();
    await expectProblem(await signed(ctx.app, carol, 'get', `/v1/participants/${carol.id}`), 401, 'KEY_ROTATED');
    const renewed = { ...carol, kid: next.kid, privateJwk: next.privateJwk };
    expect((await signed(ctx.app, renewed, 'get', `/v1/participants/${carol.id}`)).status).toBe(200);
  });

  it('never answers a refusal with a 500 or a stack trace, and writes nothing', async () => {
    const before = await snapshotCounts(ctx.ds);
    for (const header of ['Bearer a.b.c', 'Bearer ' + 'x'.repeat(5000) + '.y.z', 'Bearer eyJhbGciOiJub25lIn0.e30.']) {
      const res = await request(ctx.app).get(path()).set('Authorization', header);
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });
});
