/**
 * The ledger entry: the object an index is given to, and its exact bytes.
 * Everything a verifier hashes is defined here, so the sequencer, the API and
 * the offline verifier cannot drift apart. Pure, no I/O.
 */
import { canonicalBytes, canonicalize } from '../crypto/canonical-json.js';
import { sha256 } from '../crypto/sha256.js';
import { hashLeaf } from './merkle.js';

/**
 * Version of the entry encoding. It is part of every entry, and so of every
 * leaf hash: if the encoding ever has to change, new entries carry a new
 * version and old ones keep verifying under the rules they were written with.
 */
export const ENTRY_VERSION = 1;

/**
 * One ledger entry. `index` is its position in the log (also its Merkle leaf
 * index), `at` when the event was queued (ISO 8601, UTC, milliseconds),
 * `actor` the participant id (or 'system'), `subjects` the ids of the objects
 * concerned and `data` the event's details (ids and digests, never dataset
 * contents).
 */
export interface LedgerEntry {
  v: typeof ENTRY_VERSION;
  index: number;
  kind: string;
  at: string;
  actor: string;
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

/** The RFC 8785 text of an entry: what ledger_entries.entry stores byte for byte. */
export function canonicalEntryText(entry: LedgerEntry): string {
  return canonicalize(entry);
}

/** The RFC 8785 bytes of an entry: the leaf data of the Merkle tree. Throws on anything that is not plain JSON. */
export function encodeEntry(entry: LedgerEntry): Uint8Array {
  return canonicalBytes(entry);
}

/** RFC 9162 leaf hash of an entry, SHA-256(0x00 || RFC 8785 bytes). */
export function leafHashOfEntry(entry: LedgerEntry): Uint8Array {
  return hashLeaf(encodeEntry(entry));
}

/** Leaf hash of an already canonical entry text (the stored form), without re-encoding it. */
export function leafHashOfText(text: string): Uint8Array {
  // Hash the string's UTF-8 directly: no intermediate byte array per entry.
  return sha256(LEAF_HASH_PREFIX, text);
}

const LEAF_HASH_PREFIX = new Uint8Array([0]);

/** The `at` field of an entry: ISO 8601 in UTC with milliseconds, so every entry has the same fixed-width form. */
export function entryTime(d: Date): string {
  return d.toISOString();
}
