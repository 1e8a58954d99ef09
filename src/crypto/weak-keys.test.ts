/**
 * Weak Ed25519 keys (hardening, class 3): small-order points and
 * non-canonical encodings are refused as keys, and verification is strict
 * RFC 8032 (canonical R and A, s < L, no small-order A) so a
 * "signature" that needs no secret never verifies.
 */
import { generateKeyPair, publicKeyFromJwk, sign, verify, weakKeyProblem, publicJwkOf } from './ed25519.js';
import { fromHex, toBase64Url } from './sha256.js';

// The eight small-order points in their canonical encodings (identity, order 2, 4 and 8 points),
// and non-canonical encodings (y >= p) of small-order points.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
];
const NON_CANONICAL = [
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (the identity, non-canonical)
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p, sign bit set
];

describe('weak keys', () => {
  it.each([...SMALL_ORDER, ...NON_CANONICAL])('refuses %s as a public key', (hex) => {
    expect(weakKeyProblem(fromHex(hex))).not.toBeNull();
    expect(() => publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(fromHex(hex)) })).toThrow();
  });

  it('accepts freshly generated keys', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey } = generateKeyPair();
      expect(weakKeyProblem(publicKey)).toBeNull();
      expect(publicKeyFromJwk(publicJwkOf(publicKey))).toEqual(publicKey);
    }
  });

  it('never verifies the secret-free "signature" of the identity key (R = identity, s = 0)', () => {
    const identity = fromHex(SMALL_ORDER[0]!);
    const forged = new Uint8Array(64);
    forged.set(identity, 0);
    for (const msg of ['contract', 'anything']) expect(verify(forged, new TextEncoder().encode(msg), identity)).toBe(false);
  });

  it('refuses a signature whose s is not reduced (s + L), which a lax verifier accepts', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const msg = new TextEncoder().encode('m');
    const sig = sign(msg, secretKey);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    let t = s + L;
    const bad = new Uint8Array(sig);
    for (let i = 0; i < 32; i++) { bad[32 + i] = Number(t & 0xffn); t >>= 8n; }
    expect(verify(sig, msg, publicKey)).toBe(true);
    expect(verify(bad, msg, publicKey)).toBe(false);
  });
});
