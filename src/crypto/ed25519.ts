/**
 * Ed25519 keys and signatures. noble does the curve arithmetic; keys travel
 * as JWK (kty OKP, crv Ed25519) and are identified by their RFC 7638 thumbprint.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { calculateJwkThumbprint } from 'jose';
import { fromBase64Url, toBase64Url } from './sha256.js';

// The synchronous API needs a SHA-512 implementation plugged in.
ed.hashes.sha512 = sha512;

/** Public Ed25519 key as JWK. */
export interface PublicJwk { kty: 'OKP'; crv: 'Ed25519'; x: string; kid?: string }
/** Private Ed25519 key as JWK (d is the 32-byte seed). */
export interface PrivateJwk extends PublicJwk { d: string }

/** A fresh key pair: 32-byte seed and 32-byte public key. */
export function generateKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = ed.utils.randomSecretKey();
  return { secretKey, publicKey: ed.getPublicKey(secretKey) };
}

/** Public key of a 32-byte seed. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey);
}

/** Ed25519 signature (64 bytes) of message. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/**
 * True when signature is a valid Ed25519 signature of message by publicKey; false on any malformed input.
 * Strict RFC 8032 verification (noble's `zip215: false`): canonical R and A, s < L, small-order A
 * refused, so no signature exists that needs no secret. noble checks the cofactored equation (an R
 * with a torsion component passes); the service's node:crypto path (ed25519-node.ts) is stricter there.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Raw public key bytes of a JWK; throws when the JWK is not an Ed25519 public key. */
export function publicKeyFromJwk(jwk: { kty?: unknown; crv?: unknown; x?: unknown }): Uint8Array {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new Error('not an Ed25519 public JWK');
  }
  const x = fromBase64Url(jwk.x);
  const problem = weakKeyProblem(x);
  if (problem) throw new Error(`Ed25519 public key refused: ${problem}`);
  return x;
}

/**
 * Why 32 bytes are not an acceptable Ed25519 public key, or null: not a point, a non-canonical
 * encoding (y >= p, or x = 0 with the sign bit set), a small-order point (the identity and its
 * torsion relatives, for which signatures exist without a secret) or a point outside the
 * prime-order subgroup. A key made by key generation never fails these checks.
 */
export function weakKeyProblem(bytes: Uint8Array): string | null {
  if (bytes.length !== 32) return 'must be 32 bytes';
  let p: ed.Point;
  try {
    p = ed.Point.fromBytes(bytes, false);
  } catch {
    return 'not a canonical encoding of a curve point';
  }
  if (p.isSmallOrder()) return 'a small-order point';
  if (!p.isTorsionFree()) return 'not in the prime-order subgroup';
  return null;
}

/** JWK of a raw public key. */
export function publicJwkOf(publicKey: Uint8Array): PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) };
}

/** Private JWK of a seed (includes the public part). */
export function privateJwkOf(secretKey: Uint8Array): PrivateJwk {
  return { ...publicJwkOf(publicKeyOf(secretKey)), d: toBase64Url(secretKey) };
}

/** Seed bytes of a private JWK; throws when d is missing or does not match x. */
export function secretKeyFromJwk(jwk: PrivateJwk): Uint8Array {
  const d = fromBase64Url(jwk.d);
  if (d.length !== 32) throw new Error('Ed25519 private key must be 32 bytes');
  if (toBase64Url(publicKeyOf(d)) !== jwk.x) throw new Error('private key does not match x');
  return d;
}

/** The public half of a JWK (kty, crv, x): what may be stored, published or hashed, never d or extra members. */
export function publicHalf(jwk: PublicJwk): PublicJwk {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

/** RFC 7638 thumbprint (SHA-256, base64url) of an Ed25519 public key: the key id used everywhere. */
export async function thumbprintOf(jwk: PublicJwk): Promise<string> {
  return calculateJwkThumbprint(publicHalf(jwk), 'sha256');
}
