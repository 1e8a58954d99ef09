/**
 * Naming the first altered entry when the entries alone cannot: an insider
 * who edits entry i and recomputes its leaf and chain hashes (and every later
 * chain hash) leaves a log that agrees with itself, so the first symptom is a
 * chain mismatch further on, or only the signed root. The checkpoint commits
 * to every leaf, though, and the service can show any committed leaf with an
 * inclusion proof. The locator walks down the tree from the signed root: each
 * proof, once it verifies against the signed root, gives the committed hashes
 * of a row of subtrees, the leftmost one that differs from the entries is
 * where the first altered entry is, and about log2(n) proofs reach it.
 * Nothing the service sends is believed unless it hashes to the signed root,
 * so a lying service cannot get an innocent entry named; if its proofs do not
 * verify (it rewrote its tree nodes too) the entry is reported as unlocated.
 * Pure apart from the injected proof source: the CLI fetches proofs over
 * HTTP, the console's worker asks the page for them, tests answer from memory.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { fromBase64, toBase64 } from '../crypto/sha256.js';
import { leafHashOfText } from './ledger-entry.js';
import { inclusionProofRanges, rootFromInclusionProof, rootFromLeafHashes } from './merkle.js';
import { verifyLog, type LocateRequest, type ServedEntry, type VerifiedCheckpoint, type VerifyLogInput, type VerifyLogResult } from './verify-log.js';

/** An RFC 9162 inclusion proof of leaf `index` in the tree of `treeSize`, as GET /v1/ledger/proofs/inclusion answers it (standard base64). */
export type InclusionProofSource = (index: number, treeSize: number) => Promise<{ leafHash: string; proof: string[] }>;

/** Where the search ended: the first leaf below the limit that differs from the committed one, none, or why it could not tell. */
export type LocateOutcome =
  | { found: number; committedLeaf: string; servedLeaf: string }
  | { found: null }
  | { unlocated: string };

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The first index below `limit` whose entry's leaf hash differs from the leaf
 * the checkpoint `against` commits to. Entries below `limit` must be JSON
 * objects (verifyLog checked them before the first problem it saw).
 */
export async function firstLeafDiffering(entries: readonly ServedEntry[], limit: number, against: VerifiedCheckpoint, proofs: InclusionProofSource): Promise<LocateOutcome> {
  const size = against.size;
  limit = Math.min(limit, size, entries.length);
  if (limit <= 0) return { found: null };
  const root = fromBase64(against.rootHash);
  const cache = new Map<number, Uint8Array>();
  const leafAt = (j: number): Uint8Array => {
    let h = cache.get(j);
    if (!h) cache.set(j, (h = leafHashOfText(canonicalize(entries[j].entry))));
    return h;
  };
  const ours = (a: number, b: number): Uint8Array => rootFromLeafHashes(Array.from({ length: b - a }, (_, k) => leafAt(a + k)));
  // Invariant: [lo, hi) is a subtree of the tree of `size` that holds the first differing leaf, if it is below limit.
  let [lo, hi] = [0, size];
  for (;;) {
    if (lo >= limit) return { found: null };
    let answer: { leafHash: string; proof: string[] };
    let committedLeaf: Uint8Array;
    let proof: Uint8Array[];
    try {
      answer = await proofs(lo, size);
      committedLeaf = fromBase64(answer.leafHash);
      proof = answer.proof.map((p) => fromBase64(p));
      if (!sameBytes(rootFromInclusionProof(lo, size, committedLeaf, proof), root)) {
        // A service that serves the altered leaf with honest siblings still shows the committed subtrees when our leaf fits.
        if (!sameBytes(rootFromInclusionProof(lo, size, leafAt(lo), proof), root)) {
          return { unlocated: `the service's inclusion proof for entry ${lo} does not lead to the signed root of size ${size} (its tree was rewritten too)` };
        }
        committedLeaf = leafAt(lo);
      }
    } catch (e) {
      return { unlocated: `no usable inclusion proof for entry ${lo} at size ${size}: ${messageOf(e)}` };
    }
    if (!sameBytes(committedLeaf, leafAt(lo))) return { found: lo, committedLeaf: toBase64(committedLeaf), servedLeaf: toBase64(leafAt(lo)) };
    // The proof's siblings inside [lo, hi) tile (lo, hi) left to right, smallest first; each is a committed subtree hash.
    const ranges = inclusionProofRanges(lo, size);
    let next: [number, number] | null = null;
    for (let k = 0; k < ranges.length; k++) {
      const [a, b] = ranges[k];
      if (a < lo || b > hi) continue;
      if (a >= limit) return { found: null };
      if (b > limit || !sameBytes(ours(a, b), proof[k])) {
        next = [a, b];
        break;
      }
    }
    // Every part of [lo, hi) matches what is committed: nothing differs here.
    if (!next) return { found: null };
    [lo, hi] = next;
    if (hi - lo === 1 && lo < limit) {
      // A single committed leaf that differs from ours (hi <= limit here, or the loop would have gone on).
      return { found: lo, committedLeaf: toBase64(proofAt(ranges, proof, lo)), servedLeaf: toBase64(leafAt(lo)) };
    }
  }
}

function proofAt(ranges: Array<[number, number]>, proof: Uint8Array[], leaf: number): Uint8Array {
  const k = ranges.findIndex(([a, b]) => a === leaf && b === leaf + 1);
  return proof[k];
}

/**
 * verifyLog, then, when it failed after the checkpoint was opened and a proof
 * source is given, the search for an earlier altered entry against the signed
 * checkpoint (and the previously verified one). An entry found before the
 * first problem verifyLog saw becomes the first bad index; a search that
 * cannot finish says why in the problem.
 */
export async function verifyLogLocating(input: VerifyLogInput, proofs?: InclusionProofSource): Promise<VerifyLogResult> {
  const result = verifyLog(input);
  if (result.ok) return result;
  const { locate, ...failure } = result;
  if (!locate) return failure;
  if (!proofs) {
    return failure.firstBadIndex === null
      ? { ...failure, problem: `${failure.problem} (no inclusion proofs to locate the entry with: verify against the service to name it)` }
      : failure;
  }
  return applyLocate(input.entries, failure, locate, proofs);
}

async function applyLocate(entries: readonly ServedEntry[], failure: Extract<VerifyLogResult, { ok: false }>, locate: LocateRequest, proofs: InclusionProofSource): Promise<VerifyLogResult> {
  let limit = locate.before;
  let best: { index: number; against: VerifiedCheckpoint; committedLeaf: string; servedLeaf: string } | null = null;
  const unlocated: string[] = [];
  for (const against of locate.against) {
    const outcome = await firstLeafDiffering(entries, limit, against, proofs);
    if ('unlocated' in outcome) unlocated.push(outcome.unlocated);
    else if (outcome.found !== null) {
      best = { index: outcome.found, against, committedLeaf: outcome.committedLeaf, servedLeaf: outcome.servedLeaf };
      limit = outcome.found;
    }
  }
  if (best && (failure.firstBadIndex === null || best.index < failure.firstBadIndex)) {
    return {
      ok: false,
      code: 'LEDGER_ENTRY_CHANGED',
      firstBadIndex: best.index,
      problem:
        `entry ${best.index}: its bytes (leaf ${best.servedLeaf}) differ from the leaf the checkpoint of size ${best.against.size} commits to (${best.committedLeaf}, shown by an inclusion proof that verifies against the signed root); ` +
        `the stored hashes were recomputed to hide the change, which first showed as: ${failure.problem}`,
    };
  }
  if (!best && unlocated.length > 0) {
    const where = failure.firstBadIndex === null ? 'the altered entry cannot be named' : `entries before ${failure.firstBadIndex} could not be checked against the checkpoint`;
    return { ...failure, problem: `${failure.problem} (${where}: ${unlocated.join('; ')})` };
  }
  return failure;
}
