/**
 * The byte primitives of sha256.ts for the browser (the console): SHA-256 by
 * @noble/hashes (WebCrypto's digest is asynchronous, and the ledger code is
 * synchronous by design) and portable hex/base64 codecs. Same exports and the
 * same refusals as bytes-node.ts; the unit test checks both agree.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** SHA-256 of the concatenation of the given parts; strings are hashed as their UTF-8 bytes. */
export function sha256(...parts: Array<Uint8Array | string>): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(typeof p === 'string' ? encoder.encode(p) : p);
  return h.digest();
}

/** Lower-case hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** Bytes of a hex string already checked to be well formed. */
export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function binaryOf(bytes: Uint8Array): string {
  let s = '';
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return btoa(binaryOf(bytes));
}

/** Bytes of a standard base64 string; throws when it is not canonical base64. */
export function fromBase64(b64: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new Error('invalid base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // atob is lenient (whitespace, missing padding, non-zero trailing bits): require the canonical text.
  if (toBase64(out) !== b64) throw new Error('invalid base64');
  return out;
}

/** URL-safe base64 without padding (RFC 7515). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Bytes of an unpadded base64url string; throws when it is not canonical. */
export function fromBase64Url(b64u: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(b64u)) throw new Error('invalid base64url');
  const b64 = b64u.replace(/-/g, '+').replace(/_/g, '/');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  } catch {
    throw new Error('invalid base64url');
  }
  return bytes;
}
