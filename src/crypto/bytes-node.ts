/**
 * The byte primitives of sha256.ts for Node: SHA-256 by node:crypto and the
 * hex/base64 codecs by Buffer, chosen for throughput on the ledger's hot paths.
 * The console's build swaps this file for bytes-browser.ts (same exports, no
 * node: imports), so every module above sha256.ts runs unchanged in a page.
 */
import { createHash, hash } from 'node:crypto';

// Scratch for the short concatenations of the ledger's hot loops (prefix ‖ 32 ‖ 32 bytes): hashed in one call.
const SCRATCH = Buffer.allocUnsafe(128);

const digestOf = (out: Buffer): Uint8Array => new Uint8Array(out.buffer, out.byteOffset, 32);

/**
 * SHA-256 of the concatenation of the given parts; strings are hashed as their UTF-8 bytes.
 * The ledger's shapes (one part; one ASCII prefix byte and a text; short byte
 * parts such as prefix ‖ left ‖ right) take node:crypto's one-shot hash(),
 * which skips the Hash object per call; anything else streams through createHash.
 */
export function sha256(...parts: Array<Uint8Array | string>): Uint8Array {
  if (parts.length === 1) return digestOf(hash('sha256', parts[0]!, 'buffer'));
  if (parts.length === 2) {
    const [a, b] = parts as [Uint8Array | string, Uint8Array | string];
    // A one-byte ASCII prefix is the same single UTF-8 byte as a string, so prefix ‖ text is one string.
    if (typeof b === 'string' && typeof a !== 'string' && a.length === 1 && a[0]! < 0x80) return digestOf(hash('sha256', String.fromCharCode(a[0]!) + b, 'buffer'));
  }
  let total = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      total = -1;
      break;
    }
    total += p.length;
  }
  if (total >= 0 && total <= SCRATCH.length) {
    let at = 0;
    for (const p of parts as Uint8Array[]) {
      SCRATCH.set(p, at);
      at += p.length;
    }
    return digestOf(hash('sha256', SCRATCH.subarray(0, total), 'buffer'));
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return digestOf(h.digest());
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
