/**
 * Ed25519 on the service's hot paths through libsodium (sodium-native, a
 * native binding) with the key decoded once: request-token verification,
 * release-token and checkpoint signing. On the project machine one
 * verification costs ~67 µs against ~133 µs through node:crypto (OpenSSL) and
 * one signature ~27 µs against ~45 µs (bench/README.md, "Ed25519"); both are
 * on every job authorization. Node only: the console keeps using ed25519.ts
 * (noble).
 *
 * Strictness is the same as ed25519.ts's `verify` or stricter, and does not
 * depend on what the linked library version checks:
 * - the public key passes `weakKeyProblem` before it is used (canonical
 *   encoding, not small-order, in the prime-order subgroup): libsodium checks
 *   the first two itself, not the subgroup; OpenSSL checks none of them;
 * - s must be reduced (s < L), checked here before libsodium sees it;
 * - R must not be a small-order point (any encoding, canonical or not): with
 *   R = identity and an honest key, a signature s = k·a exists for every
 *   message;
 * - libsodium then checks the cofactorless equation [s]B = R + [k]A by
 *   re-encoding R, so a non-canonical R, or R with a torsion component (which
 *   noble's cofactored check accepts), never verifies.
 * `ed25519-node.test.ts` checks each of these against crafted signatures.
 */
import sodium from 'sodium-native';
import { publicKeyFromJwk, secretKeyFromJwk, type PrivateJwk, type PublicJwk } from './ed25519.js';

// L = 2^252 + 27742317777372353535851937790883648493, little-endian, as libsodium compares it.
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

/** True when the 32 little-endian bytes at sig[32..64) encode an integer < L. */
export function isReducedScalar(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!;
    if (s < L[i]!) return true;
    if (s > L[i]!) return false;
  }
  return false; // s == L
}

// The y coordinates (little-endian, sign bit masked) of the eight small-order points, and their
// non-canonical encodings y + p where y + p < 2^255; libsodium's blocklist.
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0 (order 4)
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1 (identity)
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = -1 (order 2)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (non-canonical 0)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (non-canonical 1)
].map((h) => Buffer.from(h, 'hex'));

/** True when the first 32 bytes of sig (R) encode a small-order point, canonically or not. */
export function isSmallOrderR(sig: Uint8Array): boolean {
  const r = Buffer.from(sig.buffer, sig.byteOffset, 32);
  outer: for (const y of SMALL_ORDER_Y) {
    for (let i = 0; i < 31; i++) if (r[i] !== y[i]) continue outer;
    if ((r[31]! & 0x7f) === y[31]) return true;
  }
  return false;
}

/** A strict Ed25519 verifier for one public key: (signature, message) -> valid. */
export type Verifier = (signature: Uint8Array, message: Uint8Array) => boolean;

/**
 * A verifier for this public JWK, the key imported once. Throws when the key
 * is not an acceptable Ed25519 public key (see weakKeyProblem).
 */
export function verifierOf(jwk: Pick<PublicJwk, 'kty' | 'crv' | 'x'>): Verifier {
  const key = Buffer.from(publicKeyFromJwk(jwk));
  return (signature, message) => {
    if (signature.length !== 64 || !isReducedScalar(signature) || isSmallOrderR(signature)) return false;
    return sodium.crypto_sign_verify_detached(asBuffer(signature), asBuffer(message), key);
  };
}

/**
 * An Ed25519 signer for this private JWK, the key expanded once: message ->
 * 64-byte signature. Throws when d is not 32 bytes or x is not its public
 * key (secretKeyFromJwk).
 */
export function signerOf(jwk: PrivateJwk): (message: Uint8Array) => Uint8Array {
  const seed = Buffer.from(secretKeyFromJwk(jwk));
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_seed_keypair(Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES), secretKey, seed);
  return (message) => {
    const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
    sodium.crypto_sign_detached(signature, asBuffer(message), secretKey);
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.length);
  };
}

/** The same bytes as a Buffer, without a copy (sodium-native takes Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
