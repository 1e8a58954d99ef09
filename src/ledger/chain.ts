/**
 * The hash chain over ledger leaves: chain_i = SHA-256(chain_{i-1} || leaf_i),
 * starting from 32 zero bytes. The Merkle tree proves inclusion and
 * consistency; the chain lets an auditor walking the entries in order name the
 * first entry that was altered, removed or reordered. Pure, no I/O.
 */
import { sha256 } from '../crypto/sha256.js';

/** chain hash_{-1}: the value the first entry chains from, 32 zero bytes. */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);

/** The chain hash of an entry, SHA-256(previous chain hash || its leaf hash). */
export function chainHash(prev: Uint8Array, leafHash: Uint8Array): Uint8Array {
  if (prev.length !== 32 || leafHash.length !== 32) throw new RangeError('chain and leaf hashes must be 32 bytes');
  return sha256(prev, leafHash);
}

/**
 * Recomputes the chain over `leafHashes` and compares it with the recorded
 * `chainHashes`; returns -1 when every one matches, otherwise the first index
 * that does not (a missing or surplus chain hash counts as bad at its index,
 * and so does a leaf hash of the wrong length). `prev` lets an auditor verify
 * a page that starts after entry 0, given the chain hash before it.
 */
export function verifyChain(leafHashes: Uint8Array[], chainHashes: Uint8Array[], prev: Uint8Array = ZERO_HASH): number {
  if (prev.length !== 32) throw new RangeError('prev must be 32 bytes');
  let h = prev;
  for (let i = 0; i < leafHashes.length; i++) {
    const recorded = chainHashes[i];
    if (recorded === undefined || leafHashes[i].length !== 32) return i;
    h = sha256(h, leafHashes[i]);
    if (recorded.length !== 32 || !h.every((b, j) => b === recorded[j])) return i;
  }
  return chainHashes.length > leafHashes.length ? leafHashes.length : -1;
}
