/**
 * The service's Ed25519 path (libsodium) against crafted signatures: what
 * libsodium alone and OpenSSL alone accept, and that verifierOf is at least as
 * strict as the noble reference (ed25519.ts `verify`, RFC 8032 strict) on
 * every one of them.
 */
import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import sodium from 'sodium-native';
import { sha512 } from '@noble/hashes/sha2.js';
import { generateKeyPair, privateJwkOf, publicJwkOf, sign, verify } from './ed25519.js';
import { isReducedScalar, isSmallOrderR, signerOf, verifierOf } from './ed25519-node.js';
import { fromHex, toBase64Url } from './sha256.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const msg = new TextEncoder().encode('a request token');

function le(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}
function leInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}
const mod = (n: bigint): bigint => ((n % L) + L) % L;

/** A signature by `secret` whose R is encoded as `rBytes` (any point, any encoding) with nonce scalar r: s = r + k·a. */
function craft(secret: Uint8Array, rBytes: Uint8Array, r: bigint, s?: bigint): Uint8Array {
  const { scalar, pointBytes } = ed.utils.getExtendedPublicKey(secret);
  const k = mod(leInt(sha512(new Uint8Array([...rBytes, ...pointBytes, ...msg]))));
  const sig = new Uint8Array(64);
  sig.set(rBytes, 0);
  sig.set(le(s ?? mod(r + k * scalar)), 32);
  return sig;
}

/** What libsodium alone says, with no checks of ours in front. */
function libsodium(sig: Uint8Array, publicKey: Uint8Array): boolean {
  return sodium.crypto_sign_verify_detached(Buffer.from(sig), Buffer.from(msg), Buffer.from(publicKey));
}

/** What OpenSSL alone says, with no checks of ours in front. */
function openssl(sig: Uint8Array, publicKey: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) }, format: 'jwk' });
  return opensslVerify(null, msg, key, sig);
}

describe('Ed25519 through libsodium', () => {
  const { secretKey, publicKey } = generateKeyPair();
  const strict = verifierOf(publicJwkOf(publicKey));

  it('signs exactly as noble does (Ed25519 is deterministic) and verifies its own signatures', () => {
    const signer = signerOf(privateJwkOf(secretKey));
    const sig = signer(msg);
    expect(sig).toEqual(sign(msg, secretKey));
    expect(strict(sig, msg)).toBe(true);
    expect(verify(sig, msg, publicKey)).toBe(true);
  });

  it('accepts an honest signature with a crafted nonce (the construction below is sound)', () => {
    const r = 123456789n;
    const sig = craft(secretKey, ed.Point.BASE.multiply(r).toBytes(), r);
    expect([libsodium(sig, publicKey), openssl(sig, publicKey), verify(sig, msg, publicKey), strict(sig, msg)]).toEqual([true, true, true, true]);
  });

  it('refuses s + L: libsodium and OpenSSL refuse it too, and our own check does not rely on that', () => {
    const good = sign(msg, secretKey);
    const bad = new Uint8Array(good);
    bad.set(le(leInt(good.subarray(32)) + L), 32);
    expect(isReducedScalar(good)).toBe(true);
    expect(isReducedScalar(bad)).toBe(false);
    expect([libsodium(bad, publicKey), openssl(bad, publicKey), verify(bad, msg, publicKey), strict(bad, msg)]).toEqual([false, false, false, false]);
    const exactlyL = new Uint8Array(good);
    exactlyL.set(le(L), 32);
    expect(isReducedScalar(exactlyL)).toBe(false);
  });

  it('refuses R = identity with s = k·a, which OpenSSL and noble both accept (libsodium does not)', () => {
    const sig = craft(secretKey, ed.Point.ZERO.toBytes(), 0n);
    expect(isSmallOrderR(sig)).toBe(true);
    expect(openssl(sig, publicKey)).toBe(true);
    expect(verify(sig, msg, publicKey)).toBe(true);
    expect(libsodium(sig, publicKey)).toBe(false);
    expect(strict(sig, msg)).toBe(false);
  });

  it('refuses R with a torsion component, which noble (cofactored) accepts and libsodium and OpenSSL (cofactorless) refuse', () => {
    const r = 987654321n;
    const torsion = ed.Point.fromBytes(fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'));
    const sig = craft(secretKey, ed.Point.BASE.multiply(r).add(torsion).toBytes(), r);
    expect(verify(sig, msg, publicKey)).toBe(true);
    expect(openssl(sig, publicKey)).toBe(false);
    expect(libsodium(sig, publicKey)).toBe(false);
    expect(strict(sig, msg)).toBe(false);
  });

  it('refuses a non-canonical R (identity encoded as y = p + 1)', () => {
    const sig = craft(secretKey, fromHex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), 0n);
    expect(isSmallOrderR(sig)).toBe(true);
    expect([libsodium(sig, publicKey), openssl(sig, publicKey), verify(sig, msg, publicKey), strict(sig, msg)]).toEqual([false, false, false, false]);
  });

  it('refuses every small-order R encoding whatever its sign bit', () => {
    for (const hex of ['0100000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000080',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f']) {
      const sig = new Uint8Array(64);
      sig.set(fromHex(hex), 0);
      expect(isSmallOrderR(sig)).toBe(true);
      expect(strict(sig, msg)).toBe(false);
    }
    expect(isSmallOrderR(sign(msg, secretKey))).toBe(false);
  });

  it('will not import a small-order or non-canonical public key (OpenSSL would)', () => {
    for (const hex of ['0100000000000000000000000000000000000000000000000000000000000000', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f']) {
      const x = toBase64Url(fromHex(hex));
      expect(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })).not.toThrow();
      expect(() => verifierOf({ kty: 'OKP', crv: 'Ed25519', x })).toThrow();
    }
  });

  it('will not sign with a private key whose public half is not x', () => {
    const other = generateKeyPair();
    expect(() => signerOf({ ...privateJwkOf(secretKey), x: publicJwkOf(other.publicKey).x })).toThrow('private key does not match x');
  });

  it('refuses wrong lengths, a flipped bit and another message', () => {
    const sig = sign(msg, secretKey);
    expect(strict(sig.subarray(0, 63), msg)).toBe(false);
    const flipped = new Uint8Array(sig);
    flipped[5]! ^= 1;
    expect(strict(flipped, msg)).toBe(false);
    expect(strict(sig, new TextEncoder().encode('another'))).toBe(false);
  });
});
