/**
 * The RFC 9162 (§2.1) Merkle tree over ledger leaf hashes: hashing, proof
 * shapes, proof verification and the append-only frontier the sequencer keeps.
 * Pure and synchronous so the service, the offline verifier and the tests all
 * run the same code. Sizes and indices are plain numbers limited to safe
 * integers; bit operations are done arithmetically because JavaScript's
 * bitwise operators truncate to 32 bits.
 */
import { sha256 } from '../crypto/sha256.js';
import { LedgerError } from './ledger-error.js';

const HASH_SIZE = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 leaf hash, SHA-256(0x00 || data): the prefix keeps leaves and interior nodes in separate domains. */
export function hashLeaf(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** RFC 9162 interior node hash, SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** MTH of the empty tree, SHA-256 of the empty string, as RFC 9162 defines it. */
export const EMPTY_ROOT: Uint8Array = sha256();

/** A perfect subtree: node (level, index) covers leaves [index·2^level, (index+1)·2^level). Stored nodes never change. */
export interface NodeId { level: number; index: number }

/** A perfect subtree together with its hash, as produced by {@link CompactRange.append}. */
export interface NodeHash extends NodeId { hash: Uint8Array }

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;
const isPowerOfTwo = (x: number): boolean => x >= 1 && splitPoint(x + 1) === x;

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
}

/** Largest power of two strictly below n (n >= 2): the RFC 9162 split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * MTH over the given leaf hashes. It runs a compact range (a stack of perfect
 * subtree roots) instead of recursing over slices, so the offline verifier can
 * recompute the root of a million-leaf log in linear time and small memory.
 */
export function rootFromLeafHashes(leafHashes: Uint8Array[]): Uint8Array {
  const stack: Uint8Array[] = [];
  for (let i = 0; i < leafHashes.length; i++) {
    let h = leafHashes[i];
    // Each trailing one bit of i is a finished left sibling waiting on the stack.
    for (let s = i; odd(s); s = half(s)) h = hashChildren(stack.pop() as Uint8Array, h);
    stack.push(h);
  }
  return stack.length === 0 ? EMPTY_ROOT.slice() : hashRangeFromNodes(stack);
}

/**
 * The leaf range [start, end) split into maximal aligned perfect subtrees, left
 * to right. For the ranges proofs ask for (start a multiple of a power of two
 * at least end − start) the sizes strictly decrease, and folding the node
 * hashes from the right with {@link hashRangeFromNodes} gives the range's MTH,
 * so a proof node can be answered from stored perfect nodes alone.
 */
export function perfectNodesOfRange(start: number, end: number): NodeId[] {
  checkCount(start, 'start');
  checkCount(end, 'end');
  if (start > end) throw new RangeError(`range start ${start} is after end ${end}`);
  const nodes: NodeId[] = [];
  while (start < end) {
    let [size, level] = [1, 0];
    while (start % (size * 2) === 0 && start + size * 2 <= end) {
      size *= 2;
      level++;
    }
    nodes.push({ level, index: start / size });
    start += size;
  }
  return nodes;
}

/** Folds perfect-subtree hashes from the right (h = node_i ∥ h), which is how MTH joins a range's decreasing subtrees. */
export function hashRangeFromNodes(nodes: Uint8Array[]): Uint8Array {
  if (nodes.length === 0) throw new RangeError('cannot hash an empty range');
  let h = nodes[nodes.length - 1];
  for (let i = nodes.length - 2; i >= 0; i--) h = hashChildren(nodes[i], h);
  return h;
}

/**
 * Leaf ranges whose subtree hashes make up the RFC 9162 inclusion proof
 * PATH(index, D[size]), bottom-up as they appear in the proof. Throws a
 * RangeError unless 0 <= index < size.
 */
export function inclusionProofRanges(index: number, size: number): Array<[number, number]> {
  checkCount(index, 'index');
  checkCount(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const siblings: Array<[number, number]> = [];
  let [lo, n, m] = [0, size, index];
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      siblings.push([lo + k, lo + n]);
      n = k;
    } else {
      siblings.push([lo, lo + k]);
      [lo, m, n] = [lo + k, m - k, n - k];
    }
  }
  return siblings.reverse();
}

/**
 * Leaf ranges whose subtree hashes make up the RFC 9162 consistency proof
 * PROOF(size1, D[size2]) = SUBPROOF(size1, D[size2], true), in proof order.
 * Throws a RangeError unless 0 < size1 <= size2: RFC 9162 defines proofs only
 * from a non-empty tree (every tree extends the empty one, nothing to prove),
 * and the published vectors refuse size1 = 0. Equal sizes give an empty proof.
 */
export function consistencyProofRanges(size1: number, size2: number): Array<[number, number]> {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 === 0) throw new RangeError('size1 must be at least 1');
  if (size1 > size2) throw new RangeError(`size1 ${size1} is larger than size2 ${size2}`);
  const out: Array<[number, number]> = [];
  let [lo, n, m] = [0, size2, size1];
  let wholeOldTree = true;
  while (m < n) {
    const k = splitPoint(n);
    if (m <= k) {
      out.push([lo + k, lo + n]);
      n = k;
    } else {
      out.push([lo, lo + k]);
      [lo, m, n] = [lo + k, m - k, n - k];
      wholeOldTree = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b still true the verifier already has it as root1.
  if (!wholeOldTree) out.push([lo, lo + m]);
  return out.reverse();
}

/** Reference inclusion proof computed from all leaf hashes (tests, small trees); the service builds proofs from stored nodes. */
export function inclusionProof(index: number, size: number, leafHashes: Uint8Array[]): Uint8Array[] {
  if (leafHashes.length < size) throw new RangeError(`need ${size} leaf hashes, got ${leafHashes.length}`);
  return inclusionProofRanges(index, size).map(([s, e]) => rootFromLeafHashes(leafHashes.slice(s, e)));
}

/** Reference consistency proof computed from all leaf hashes (tests, small trees). */
export function consistencyProof(size1: number, size2: number, leafHashes: Uint8Array[]): Uint8Array[] {
  if (leafHashes.length < size2) throw new RangeError(`need ${size2} leaf hashes, got ${leafHashes.length}`);
  return consistencyProofRanges(size1, size2).map(([s, e]) => rootFromLeafHashes(leafHashes.slice(s, e)));
}

/**
 * Proof hashes for the given ranges answered from stored perfect nodes:
 * `lookup` returns the hash of a node (and should throw when it is missing).
 * This is how the service turns the range functions into proofs.
 */
export function proofFromNodes(ranges: Array<[number, number]>, lookup: (id: NodeId) => Uint8Array): Uint8Array[] {
  return ranges.map(([s, e]) => hashRangeFromNodes(perfectNodesOfRange(s, e).map(lookup)));
}

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== HASH_SIZE) throw new LedgerError('LEDGER_BAD_HASH', `${what} must be ${HASH_SIZE} bytes, got ${h.length}`);
}

/**
 * The root an inclusion proof implies (RFC 9162 §2.1.3.2 steps 1–4, plus the
 * sn = 0 check of step 5). Throws when the arguments or the proof length do not
 * fit the tree shape; the caller compares the result with a trusted root.
 */
export function rootFromInclusionProof(leafIndex: number, treeSize: number, leafHash: Uint8Array, proof: Uint8Array[]): Uint8Array {
  checkCount(leafIndex, 'leafIndex');
  checkCount(treeSize, 'treeSize');
  if (leafIndex >= treeSize) throw new RangeError(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  checkHash(leafHash, 'leaf hash');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  let [fn, sn, r] = [leafIndex, treeSize - 1, leafHash];
  for (const p of proof) {
    if (sn === 0) throw new LedgerError('LEDGER_BAD_PROOF', 'inclusion proof is longer than the tree is deep');
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = hashChildren(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw new LedgerError('LEDGER_BAD_PROOF', 'inclusion proof is too short for the tree size');
  return r;
}

/** Checks an RFC 9162 inclusion proof against a trusted root; throws a LedgerError (LEDGER_BAD_PROOF, LEDGER_BAD_HASH) naming what failed. */
export function verifyInclusion(leafIndex: number, treeSize: number, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  checkHash(root, 'root');
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (!sameBytes(computed, root)) throw new LedgerError('LEDGER_BAD_PROOF', 'inclusion proof does not lead to the given root');
}

/**
 * Checks an RFC 9162 consistency proof (§2.1.4.2) between two trusted roots;
 * throws a LedgerError (LEDGER_BAD_PROOF, LEDGER_BAD_HASH) naming what failed. Policy (following the published
 * vectors): size1 = 0 is refused; proof nodes must be 32 bytes; with equal
 * sizes the proof must be empty and the roots merely equal non-empty byte
 * strings (the spec asks nothing more, and a vector with 12-byte roots expects
 * success); otherwise both roots must be 32-byte hashes.
 */
export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 === 0) throw new RangeError('consistency with the empty tree proves nothing; size1 must be at least 1');
  if (size2 < size1) throw new RangeError(`size2 ${size2} is smaller than size1 ${size1}`);
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  if (size1 === size2) {
    if (proof.length !== 0) throw new LedgerError('LEDGER_BAD_PROOF', 'sizes are equal but the proof is not empty');
    if (root1.length === 0) throw new LedgerError('LEDGER_BAD_PROOF', 'roots must not be empty');
    if (!sameBytes(root1, root2)) throw new LedgerError('LEDGER_BAD_PROOF', 'sizes are equal but the roots differ');
    return;
  }
  checkHash(root1, 'root1');
  checkHash(root2, 'root2');
  if (proof.length === 0) throw new LedgerError('LEDGER_BAD_PROOF', 'consistency proof is empty');
  // A power-of-two old tree is a node of the new one, so the proof omits it.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let [fn, sn] = [size1 - 1, size2 - 1];
  while (odd(fn)) [fn, sn] = [half(fn), half(sn)];
  let [fr, sr] = [path[0], path[0]];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new LedgerError('LEDGER_BAD_PROOF', 'consistency proof is longer than expected');
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = hashChildren(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw new LedgerError('LEDGER_BAD_PROOF', 'consistency proof is too short');
  if (!sameBytes(fr, root1)) throw new LedgerError('LEDGER_BAD_PROOF', 'consistency proof does not lead to root1');
  if (!sameBytes(sr, root2)) throw new LedgerError('LEDGER_BAD_PROOF', 'consistency proof does not lead to root2');
}

/**
 * Ids of the perfect subtrees forming the right frontier of a tree of `size`
 * leaves (one per set bit of size, largest first), so the sequencer can load
 * them from storage and resume with `new CompactRange(size, hashes)`.
 */
export function frontierNodeIds(size: number): NodeId[] {
  return perfectNodesOfRange(0, size);
}

/**
 * The right frontier of an append-only tree: enough to append leaves and
 * compute the root without the rest of the tree. Each append reports every
 * perfect node it completes so the caller can store them for proofs.
 */
export class CompactRange {
  #size: number;
  #frontier: Uint8Array[];

  constructor(size = 0, frontier: Uint8Array[] = []) {
    checkCount(size, 'size');
    const expected = frontierNodeIds(size).length;
    if (frontier.length !== expected) throw new RangeError(`a tree of ${size} leaves has ${expected} frontier nodes, got ${frontier.length}`);
    frontier.forEach((h, i) => checkHash(h, `frontier[${i}]`));
    this.#size = size;
    this.#frontier = [...frontier];
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Perfect-subtree roots, left to right (a copy, so callers cannot corrupt the state). */
  get frontier(): Uint8Array[] {
    return [...this.#frontier];
  }

  /** Appends one leaf hash; returns the new perfect nodes, the leaf at level 0 first, then each completed parent. */
  append(leafHash: Uint8Array): NodeHash[] {
    checkHash(leafHash, 'leaf hash');
    let hash = leafHash;
    let level = 0;
    let index = this.#size;
    const created: NodeHash[] = [{ level, index, hash }];
    for (let s = this.#size; odd(s); s = half(s)) {
      hash = hashChildren(this.#frontier.pop() as Uint8Array, hash);
      level++;
      index = half(index);
      created.push({ level, index, hash });
    }
    this.#frontier.push(hash);
    this.#size++;
    return created;
  }

  /** Appends one leaf hash like append(), without listing the new nodes: a verifier's loop over millions of leaves. */
  push(leafHash: Uint8Array): void {
    checkHash(leafHash, 'leaf hash');
    let hash = leafHash;
    for (let s = this.#size; odd(s); s = half(s)) hash = hashChildren(this.#frontier.pop() as Uint8Array, hash);
    this.#frontier.push(hash);
    this.#size++;
  }

  /** MTH of the leaves so far (EMPTY_ROOT when empty). */
  root(): Uint8Array {
    return this.#frontier.length === 0 ? EMPTY_ROOT.slice() : hashRangeFromNodes(this.#frontier);
  }
}
