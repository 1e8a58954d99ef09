/**
 * Weak Ed25519 keys at the API (hardening, class 3): small-order and
 * non-canonical keys are refused at registration and rotation, and a weak key
 * already on record (registered before the check) authenticates nothing and
 * signs no contract.
 */
import request from 'supertest';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed } from '../helpers/actors.js';
import { verifyContractSignature } from '../../src/agreements/contract-document.js';
import { activeContract } from '../helpers/scenario.js';
import { fromHex, toBase64Url } from '../../src/crypto/sha256.js';
import { thumbprintOf } from '../../src/crypto/ed25519.js';

let ctx: TestContext;
const IDENTITY = '0100000000000000000000000000000000000000000000000000000000000000';
const NON_CANONICAL = 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
const ORDER_8 = 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a';
const jwkOf = (hex: string) => ({ kty: 'OKP' as const, crv: 'Ed25519' as const, x: toBase64Url(fromHex(hex)) });
const b64u = (s: string) => Buffer.from(s).toString('base64url');

// A token "signed" by the identity key: R = identity, s = 0 satisfies the cofactored and lax equations for any message.
function forgedToken(kid: string, iss: string, method: string, path: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64u(JSON.stringify({ alg: 'EdDSA', kid }));
  const payload = b64u(JSON.stringify({ iss, aud: 'tds', iat: now, exp: now + 60, jti: `j${Math.random()}`, htm: method, htu: path }));
  const sig = new Uint8Array(64);
  sig.set(fromHex(IDENTITY), 0);
  return `${header}.${payload}.${Buffer.from(sig).toString('base64url')}`;
}

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('weak keys', () => {
  it('refuses small-order and non-canonical keys at registration, with nothing written', async () => {
    for (const hex of [IDENTITY, NON_CANONICAL, ORDER_8]) {
      const jwk = jwkOf(hex);
      const kid = await thumbprintOf(jwk);
      const before = await snapshotCounts(ctx.ds);
      const res = await request(ctx.app).post('/v1/participants').set('Authorization', `Bearer ${forgedToken(kid, kid, 'POST', '/v1/participants')}`)
        .send({ name: 'Weak', roles: ['consumer'], publicKeyJwk: jwk });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
  });

  it('refuses them at rotation', async () => {
    const p = await makeParticipant(ctx, ['consumer']);
    for (const hex of [IDENTITY, NON_CANONICAL, ORDER_8]) {
      const res = await signed(ctx.app, p, 'post', `/v1/participants/${p.id}/keys`, { publicKeyJwk: jwkOf(hex) });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('a weak key already on record authenticates nothing and signs no contract', async () => {
    const hospital = await makeParticipant(ctx, ['provider']);
    const victim = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, hospital, victim);
    // Simulate a key registered before the check: swap the consumer's key for the identity point.
    const jwk = jwkOf(IDENTITY);
    const kid = await thumbprintOf(jwk);
    await ctx.ds.query(`UPDATE participant_keys SET revoked_at = clock_timestamp() WHERE participant_id = $1`, [victim.id]);
    await ctx.ds.query(`INSERT INTO participant_keys (kid, participant_id, public_jwk) VALUES ($1, $2, $3)`, [kid, victim.id, JSON.stringify(jwk)]);
    const res = await request(ctx.app).get('/v1/datasets').set('Authorization', `Bearer ${forgedToken(kid, victim.id, 'GET', '/v1/datasets')}`);
    expect([res.status, res.body.code]).toEqual([401, 'TOKEN_SIGNATURE_INVALID']);
    // Its secret-free "signature" verifies no contract document, offline either.
    const doc = (await signed(ctx.app, hospital, 'get', `/v1/contracts/${cid}`)).body as { document: object };
    const sig = new Uint8Array(64);
    sig.set(fromHex(IDENTITY), 0);
    const { canonicalize } = await import('../../src/crypto/canonical-json.js');
    expect(verifyContractSignature(canonicalize(doc.document), Buffer.from(sig).toString('base64url'), jwk)).toBe(false);
  });
});
