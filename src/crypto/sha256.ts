/**
 * SHA-256 behind one boundary. noble is the auditable reference; node:crypto
 * is used for throughput on the hot paths (ledger sequencing, verification),
 * and the unit test checks both agree on every input it tries.
 */
import { createHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of the concatenation of the given parts (node:crypto); strings are hashed as their UTF-8 bytes. */
export function sha256(...parts: Array<Uint8Array | string>): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().buffer, 0, 32);
}

/** SHA-256 via @noble/hashes, the portable reference implementation. */
export function sha256Reference(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Lower-case hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string; throws on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error('invalid hex');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Standard base64 (RFC 4648 §4, with padding), as RFC 9162 tooling prints hashes. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Bytes of a standard base64 string; throws when it is not canonical base64. */
export function fromBase64(b64: string): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.toString('base64') !== b64) throw new Error('invalid base64');
  return new Uint8Array(buf);
}

/** URL-safe base64 without padding (RFC 7515). */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Bytes of an unpadded base64url string; throws when it is not canonical. */
export function fromBase64Url(b64u: string): Uint8Array {
  const buf = Buffer.from(b64u, 'base64url');
  if (buf.toString('base64url') !== b64u) throw new Error('invalid base64url');
  return new Uint8Array(buf);
}

// One encoder for the process: utf8() sits on the ledger's hot path.
const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
