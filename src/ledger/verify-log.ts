/**
 * The auditor's check of a whole log, trusting nothing the service says except
 * what its pinned key signed: every entry is re-canonicalised and re-hashed,
 * the chain and the Merkle root recomputed, the checkpoint signature and root
 * checked, and consistency with the last checkpoint the auditor verified.
 * Pure, so the CLI (online and offline) and the tests run the same code.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { fromBase64, toBase64 } from '../crypto/sha256.js';
import { chainHash, ZERO_HASH } from './chain.js';
import { openNote, parseVerifierKey, type NoteVerifier, type ParsedCheckpoint } from './checkpoint.js';
import { ENTRY_VERSION, leafHashOfText } from './ledger-entry.js';
import { CompactRange, verifyConsistency } from './merkle.js';
import { LedgerError, type LedgerErrorCode } from './ledger-error.js';

/** One entry as served by GET /v1/ledger/entries (or read from an export); the hashes are optional because only the entry is authoritative. */
export interface ServedEntry {
  index: number;
  entry: unknown;
  leafHash?: string;
  chainHash?: string;
}

/** A checkpoint the auditor verified before (kept in the CLI's state file). */
export interface VerifiedCheckpoint {
  size: number;
  /** Standard base64 root hash. */
  rootHash: string;
}

/** What verifyLog checks: all entries from index 0, the signed checkpoint, the pinned key, and optionally the previous checkpoint. */
export interface VerifyLogInput {
  entries: ServedEntry[];
  checkpointNote: string;
  verifierKey: string;
  previous?: VerifiedCheckpoint;
  /** The service's consistency proof from previous.size to the checkpoint's size, standard base64. */
  consistencyProof?: string[];
  /** Told how many entries are checked so far, every PROGRESS_STEP entries (the console's progress bar). */
  onProgress?: (checked: number, total: number) => void;
}

/** How often verifyLog reports progress. */
export const PROGRESS_STEP = 1000;

/**
 * Either every check held (with the verified checkpoint), or the first
 * problem: its stable code, the entry when it can be located, and a sentence
 * for people.
 */
export type VerifyLogResult =
  | { ok: true; size: number; rootHash: string; entries: number }
  | { ok: false; code: LedgerErrorCode; firstBadIndex: number | null; problem: string; locate?: LocateRequest };

/**
 * Attached to a failure about the entries: an altered entry may lie before
 * the first problem the entries show (its hashes recomputed), so the caller
 * may search the leaves below `before` against these signed or previously
 * verified checkpoints (locate-bad-entry.ts does, with inclusion proofs).
 */
export interface LocateRequest {
  before: number;
  against: VerifiedCheckpoint[];
}

const bad = (code: LedgerErrorCode, firstBadIndex: number | null, problem: string): VerifyLogResult => ({ ok: false, code, firstBadIndex, problem });
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
// The checkpoint and key parsers throw coded errors; anything else is a malformed input of the given kind.
const codeOf = (e: unknown, otherwise: LedgerErrorCode): LedgerErrorCode => (e instanceof LedgerError ? e.code : otherwise);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function openCheckpoint(input: VerifyLogInput): { checkpoint: ParsedCheckpoint } | { code: LedgerErrorCode; problem: string } {
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(input.verifierKey.trim());
  } catch (e) {
    return { code: codeOf(e, 'LEDGER_MALFORMED_VERIFIER_KEY'), problem: `verifier key: ${messageOf(e)}` };
  }
  try {
    // The log's origin is its key name: a checkpoint of another log signed with the same key is refused.
    return { checkpoint: openNote(input.checkpointNote, verifier, verifier.name).checkpoint };
  } catch (e) {
    return { code: codeOf(e, 'LEDGER_MALFORMED_NOTE'), problem: `checkpoint: ${messageOf(e)}` };
  }
}

/**
 * Verifies a log from its first entry. Entries beyond the checkpoint's size
 * are checked for encoding and chain, the first `size` also against the
 * signed root. The first bad entry is named where the entries themselves show
 * it (changed bytes, missing, inserted or reordered entries); a log that is
 * self-consistent yet disagrees with the signed root (a rewritten tail with
 * recomputed hashes) is reported with firstBadIndex null. Such failures carry
 * `locate`: an entry altered with its hashes recomputed shows only later (a
 * chain mismatch after it, or the root), and verifyLogLocating
 * (locate-bad-entry.ts) then names it with inclusion proofs.
 */
export function verifyLog(input: VerifyLogInput): VerifyLogResult {
  const opened = openCheckpoint(input);
  if ('problem' in opened) return bad(opened.code, null, opened.problem);
  const cp = opened.checkpoint;
  const { previous, entries } = input;
  let previousRoot: Uint8Array | undefined;
  if (previous) {
    if (!Number.isSafeInteger(previous.size) || previous.size < 0) return bad('LEDGER_BAD_PREVIOUS_CHECKPOINT', null, 'previous checkpoint: size is not a non-negative integer');
    try {
      previousRoot = fromBase64(previous.rootHash);
    } catch {
      return bad('LEDGER_BAD_PREVIOUS_CHECKPOINT', null, 'previous checkpoint: root hash is not base64');
    }
    if (previous.size > cp.size) return bad('LEDGER_ROLLED_BACK', null, `the checkpoint (size ${cp.size}) is older than the one verified before (size ${previous.size}): the log was rolled back`);
  }

  // A problem with the entries: an entry before it may have been altered with its hashes recomputed (see LocateRequest).
  const against: VerifiedCheckpoint[] = [{ size: cp.size, rootHash: toBase64(cp.rootHash) }];
  if (previous && previous.size > 0 && previous.size <= cp.size) against.push(previous);
  const suspect = (code: LedgerErrorCode, firstBadIndex: number | null, problem: string): VerifyLogResult =>
    ({ ok: false, code, firstBadIndex, problem, locate: { before: firstBadIndex ?? Math.min(entries.length, cp.size), against } });
  const tree = new CompactRange();
  let chain = ZERO_HASH;
  let chainBefore = ZERO_HASH;
  for (let i = 0; i < entries.length; i++) {
    const row = entries[i];
    if (row.index !== i) {
      return row.index > i
        ? suspect('LEDGER_ENTRY_MISSING', i, `entry ${i}: missing (the entry served next has index ${row.index})`)
        : suspect('LEDGER_ENTRY_REORDERED', i, `entry ${i}: served with index ${row.index} (entries duplicated or reordered)`);
    }
    if (!isPlainObject(row.entry)) return suspect('LEDGER_ENTRY_CHANGED', i, `entry ${i}: not a JSON object (entry bytes changed)`);
    let leaf: Uint8Array;
    try {
      leaf = leafHashOfText(canonicalize(row.entry));
    } catch (e) {
      return suspect('LEDGER_ENTRY_CHANGED', i, `entry ${i}: cannot be canonicalised (${messageOf(e)})`);
    }
    const claimed = row.entry.index;
    if (claimed !== i) {
      // An entry claiming the previous index whose recorded chain skips that entry: the previous one was inserted.
      if (i > 0 && claimed === i - 1 && row.chainHash === toBase64(chainHash(chainBefore, leaf))) {
        return suspect('LEDGER_ENTRY_INSERTED', i - 1, `entry ${i - 1}: inserted (entry ${i} carries index ${i - 1} and its recorded chain hash skips entry ${i - 1})`);
      }
      return suspect('LEDGER_ENTRY_REORDERED', i, `entry ${i}: index field says ${JSON.stringify(claimed)} (entry missing, inserted or reordered)`);
    }
    if (row.entry.v !== ENTRY_VERSION) return suspect('LEDGER_ENTRY_CHANGED', i, `entry ${i}: unknown encoding version ${JSON.stringify(row.entry.v)}`);
    if (row.leafHash !== undefined && row.leafHash !== toBase64(leaf)) return suspect('LEDGER_ENTRY_CHANGED', i, `entry ${i}: leaf hash mismatch (entry bytes changed)`);
    const next = chainHash(chain, leaf);
    if (row.chainHash !== undefined && row.chainHash !== toBase64(next)) return suspect('LEDGER_CHAIN_MISMATCH', i, `entry ${i}: chain hash mismatch`);
    [chainBefore, chain] = [chain, next];
    if (i < cp.size) tree.push(leaf);
    if (input.onProgress && (i + 1) % PROGRESS_STEP === 0) input.onProgress(i + 1, entries.length);
    if (previous && previousRoot && i + 1 === previous.size && !sameBytes(tree.root(), previousRoot)) {
      return suspect('LEDGER_HISTORY_REWRITTEN', null, `entries 0..${i} do not match the checkpoint of size ${previous.size} verified before: history was rewritten`);
    }
  }
  if (entries.length < cp.size) {
    return suspect('LEDGER_ENTRY_MISSING', entries.length, `entry ${entries.length}: missing (the signed checkpoint covers ${cp.size} entries, ${entries.length} were served)`);
  }
  if (!sameBytes(tree.root(), cp.rootHash)) return suspect('LEDGER_ROOT_MISMATCH', null, 'root does not match the signed checkpoint');
  // The empty tree is consistent with every tree; RFC 9162 defines no proof from it.
  if (previous && previousRoot && previous.size > 0 && input.consistencyProof) {
    try {
      verifyConsistency(previous.size, cp.size, input.consistencyProof.map((p) => fromBase64(p)), previousRoot, cp.rootHash);
    } catch (e) {
      return bad('LEDGER_INCONSISTENT', null, `consistency proof from the checkpoint of size ${previous.size} does not verify: ${messageOf(e)}`);
    }
  }
  return { ok: true, size: cp.size, rootHash: toBase64(cp.rootHash), entries: entries.length };
}
