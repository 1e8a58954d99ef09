/**
 * SHA-256 and byte codecs behind one boundary. noble is the auditable
 * reference; node:crypto is used for throughput on the hot paths (ledger
 * sequencing, verification), and the unit test checks both agree on every
 * input it tries. The primitives live in bytes-node.ts, which the console's
 * browser build replaces with bytes-browser.ts, so this module and everything
 * built on it (ledger, contracts, request tokens) is shared, not copied.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
// bytes-node.ts in Node; the console's Vite build resolves it to bytes-browser.ts (same exports).
import { hexToBytes } from './bytes-node.js';

export { sha256, toHex, toBase64, fromBase64, toBase64Url, fromBase64Url } from './bytes-node.js';

/** SHA-256 via @noble/hashes, the portable reference implementation. */
export function sha256Reference(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** An incremental SHA-256 (by @noble/hashes, so it runs in Node and the browser alike): feed it chunks, then take the digest. */
export function sha256Incremental(): { update(chunk: Uint8Array): void; digest(): Uint8Array } {
  const h = nobleSha256.create();
  return { update: (chunk) => void h.update(chunk), digest: () => h.digest() };
}

/** Bytes of a hex string; throws on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error('invalid hex');
  return hexToBytes(hex);
}

// One encoder for the process: utf8() sits on the ledger's hot path.
const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
