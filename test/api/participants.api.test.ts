import request from 'supertest';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, newKey, publicOf, register, signed, type Actor } from '../helpers/actors.js';
import { signRequestToken } from '../../src/client/request-token.js';
import { OPERATIONS } from '../../src/http/openapi.js';

let ctx: TestContext;
let alice: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  alice = await makeParticipant(ctx, ['consumer'], 'Alice Institute');
});
afterAll(() => ctx.close());

describe('registration', () => {
  it('registers pending with the key as proof of possession, and the operator approves', async () => {
    const { res, actor } = await register(ctx.app, { name: 'St. Mary Hospital', roles: ['provider'], organization: 'St. Mary', contact: 'dpo@stmary.example' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), status: 'pending', kid: actor.kid, roles: ['provider'] });
    const ok = await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${actor.id}/approve`);
    expect(ok.body).toMatchObject({ id: actor.id, status: 'active' });
  });

  it('refuses bad bodies, invalid and non-Ed25519 keys, private keys and duplicate keys, writing nothing', async () => {
    const key = await newKey();
    const signer = { iss: key.kid, kid: key.kid, privateJwk: key.privateJwk };
    const pub = publicOf(key.privateJwk);
    const bodies: Array<[unknown, string]> = [
      [{}, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'] }, 'VALIDATION_FAILED'],
      [{ name: 7, roles: ['provider'], publicKeyJwk: pub }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['operator'], publicKeyJwk: pub }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: [], publicKeyJwk: pub }, 'VALIDATION_FAILED'],
      [{ name: 'x'.repeat(10_000), roles: ['provider'], publicKeyJwk: pub }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'], publicKeyJwk: pub, isAdmin: true }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'], publicKeyJwk: { ...key.privateJwk } }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'], publicKeyJwk: { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.x } }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'], publicKeyJwk: { kty: 'OKP', crv: 'X25519', x: pub.x } }, 'VALIDATION_FAILED'],
      [{ name: 'x', roles: ['provider'], publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: 'short' } }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of bodies) {
      const before = await snapshotCounts(ctx.ds);
      const res = await signed(ctx.app, signer, 'post', '/v1/participants', body);
      expect([JSON.stringify(body).slice(0, 80), res.status, res.body.code]).toEqual([JSON.stringify(body).slice(0, 80), 400, code]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
    // A token signed by another key than the one in the body proves nothing.
    const other = await newKey();
    const before = await snapshotCounts(ctx.ds);
    const mismatch = await signed(ctx.app, { iss: other.kid, kid: other.kid, privateJwk: other.privateJwk }, 'post', '/v1/participants', { name: 'x', roles: ['provider'], publicKeyJwk: pub });
    expect([mismatch.status, mismatch.body.code]).toEqual([401, 'TOKEN_SIGNATURE_INVALID']);
    expect((await request(ctx.app).post('/v1/participants').send({ name: 'x', roles: ['provider'], publicKeyJwk: pub })).body.code).toBe('AUTH_REQUIRED');
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    const dup = await signed(ctx.app, { iss: alice.kid, kid: alice.kid, privateJwk: alice.privateJwk }, 'post', '/v1/participants', { name: 'again', roles: ['consumer'], publicKeyJwk: publicOf(alice.privateJwk) });
    expect([dup.status, dup.body.code]).toEqual([409, 'KEY_ALREADY_REGISTERED']);
  });

  it('answers malformed JSON, wrong media types and oversized bodies with problems', async () => {
    const key = await newKey();
    const token = await signRequestToken({ iss: key.kid, kid: key.kid, privateJwk: key.privateJwk }, 'POST', '/v1/participants');
    const bad = await request(ctx.app).post('/v1/participants').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('{"name": ');
    expect([bad.status, bad.body.code]).toEqual([400, 'MALFORMED_JSON']);
    const text = await request(ctx.app).post('/v1/participants').set('Content-Type', 'text/plain').send('hello');
    expect([text.status, text.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const big = await request(ctx.app).post('/v1/participants').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(300_000) }));
    expect([big.status, big.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // Unknown routes: 401 before authentication (nothing is revealed), 404 after it.
    expect((await request(ctx.app).get('/v1/nothing-here')).body.code).toBe('AUTH_REQUIRED');
    const unknown = await signed(ctx.app, alice, 'get', '/v1/nothing-here');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    expect((await request(ctx.app).get('/nothing-here')).body.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('authorization', () => {
  it('lets only the operator approve and suspend, never itself', async () => {
    const { actor } = await register(ctx.app, { roles: ['consumer'] });
    const before = await snapshotCounts(ctx.ds);
    expect((await signed(ctx.app, alice, 'post', `/v1/participants/${actor.id}/approve`)).body.code).toBe('ROLE_REQUIRED');
    expect((await signed(ctx.app, alice, 'post', `/v1/participants/${alice.id}/approve`)).body.code).toBe('ROLE_REQUIRED');
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${ctx.operator.iss}/approve`)).body.code).toBe('FORBIDDEN');
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${ctx.operator.iss}/suspend`)).body.code).toBe('FORBIDDEN');
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${actor.id}/approve`, { force: true })).body.code).toBe('VALIDATION_FAILED');
    expect((await signed(ctx.app, ctx.operator, 'post', '/v1/participants/not-an-id/approve')).body.code).toBe('NOT_FOUND');
    expect((await signed(ctx.app, ctx.operator, 'post', '/v1/participants/00000000-0000-4000-8000-000000000000/suspend')).body.code).toBe('NOT_FOUND');
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });

  it('shows contact details only to the participant itself and the operator', async () => {
    const { actor } = await register(ctx.app, { roles: ['provider'], contact: 'secret@hospital.example' });
    await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${actor.id}/approve`);
    expect((await signed(ctx.app, alice, 'get', `/v1/participants/${actor.id}`)).body.contact).toBeUndefined();
    expect((await signed(ctx.app, actor, 'get', `/v1/participants/${actor.id}`)).body.contact).toBe('secret@hospital.example');
    expect((await signed(ctx.app, ctx.operator, 'get', `/v1/participants/${actor.id}`)).body.contact).toBe('secret@hospital.example');
    const list = await signed(ctx.app, alice, 'get', '/v1/participants?role=provider&limit=200');
    expect(list.status).toBe(200);
    expect(list.body.items.every((p: { contact?: string; id: string }) => p.contact === undefined || p.id === alice.id)).toBe(true);
    expect((await signed(ctx.app, alice, 'get', '/v1/participants?limit=9999')).body.code).toBe('VALIDATION_FAILED');
    expect((await signed(ctx.app, alice, 'get', '/v1/participants?colour=red')).body.code).toBe('VALIDATION_FAILED');
  });

  it('lets a participant rotate only its own key, with a valid new key', async () => {
    const bob = await makeParticipant(ctx, ['provider']);
    const next = await newKey();
    const before = await snapshotCounts(ctx.ds);
    expect((await signed(ctx.app, alice, 'post', `/v1/participants/${bob.id}/keys`, { publicKeyJwk: publicOf(next.privateJwk) })).body.code).toBe('FORBIDDEN');
    expect((await signed(ctx.app, bob, 'post', `/v1/participants/${bob.id}/keys`, { publicKeyJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } })).body.code).toBe('VALIDATION_FAILED');
    expect((await signed(ctx.app, bob, 'post', `/v1/participants/${bob.id}/keys`, { publicKeyJwk: publicOf(alice.privateJwk) })).body.code).toBe('KEY_ALREADY_REGISTERED');
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });
});

describe('operations endpoints', () => {
  it('answers health, readiness, metrics and the JWKS without authentication', async () => {
    expect((await request(ctx.app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(ctx.app).get('/readyz')).status).toBe(200);
    const metrics = await request(ctx.app).get('/metrics');
    expect(metrics.text).toMatch(/tds_http_requests_total\{method="GET",route="\/v1\/participants\/:id",status="200"\}/);
    const jwks = await request(ctx.app).get('/.well-known/jwks.json');
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ctx.keys.release.publicJwk.kid });
    expect(jwks.body.keys[1]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ctx.keys.ledger.publicJwk.kid });
    expect(jwks.body.keys.every((k: { d?: string }) => k.d === undefined)).toBe(true);
  });

  it('documents exactly the routes the app has (OpenAPI 3.1)', async () => {
    const doc = (await request(ctx.app).get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
    const routes = new Set<string>();
    const walk = (stack: Layer[], prefix: string): void => {
      for (const l of stack) {
        if (l.route) for (const m of Object.keys(l.route.methods)) routes.add(`${m} ${prefix}${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
        else if (l.handle?.stack) walk(l.handle.stack, '/v1');
      }
    };
    walk((ctx.app as unknown as { router: { stack: Layer[] } }).router.stack, '');
    const documented = new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`));
    expect([...routes].sort()).toEqual([...documented].sort());
    for (const op of OPERATIONS) expect(doc.paths[op.path][op.method]).toBeDefined();
  });
});
