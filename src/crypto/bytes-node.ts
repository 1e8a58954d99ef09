/**
 * The byte primitives of sha256.ts for Node: SHA-256 by node:crypto and the
 * hex/base64 codecs by Buffer, chosen for throughput on the ledger's hot paths.
 * The console's build swaps this file for bytes-browser.ts (same exports, no
 * node: imports), so every module above sha256.ts runs unchanged in a page.
 */
import { createHash } from 'node:crypto';

/** SHA-256 of the concatenation of the given parts; strings are hashed as their UTF-8 bytes. */
export function sha256(...parts: Array<Uint8Array | string>): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().buffer, 0, 32);
}

/** Lower-case hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string already checked to be well formed. */
export function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Standard base64 with padding. */
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
