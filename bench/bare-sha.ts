/**
 * The bare SHA-256 loop verifyLog is compared with (figure 4): exactly the
 * hash calls a full verification needs, with node:crypto on already encoded
 * canonical bytes, and nothing else. Shared by verify-worker.ts and
 * verify-micro.ts so both compare against the same baseline.
 */
import { createHash, hash } from 'node:crypto';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * The same SHA-256 calls verifyLog needs, nothing else: per entry the leaf
 * hash (0x00 ‖ bytes) and the chain hash (prev ‖ leaf), and the tree folded
 * with a stack of perfect subtrees (n − 1 interior hashes in all). Returns
 * the root so the caller can check it really computed the tree.
 */
export function bareLoop(bytes: Buffer, offsets: Uint32Array, n: number): { root: Buffer; interior: number } {
  let chain: Buffer = Buffer.alloc(32);
  const stack: Buffer[] = [];
  let interior = 0;
  for (let i = 0; i < n; i++) {
    let h = sha(LEAF, bytes.subarray(offsets[i], offsets[i + 1]));
    chain = sha(chain, h);
    for (let s = i; s % 2 === 1; s = Math.floor(s / 2)) {
      h = sha(NODE, stack.pop() as Buffer, h);
      interior++;
    }
    stack.push(h);
  }
  let root = stack[stack.length - 1];
  for (let i = stack.length - 2; i >= 0; i--) {
    root = sha(NODE, stack[i], root);
    interior++;
  }
  // Keep the chain alive so the engine cannot drop its computation.
  if (chain.length !== 32) throw new Error('unreachable');
  return { root, interior };
}

const SCRATCH = Buffer.allocUnsafe(65);

/**
 * The same hashes with node:crypto's one-shot hash() (no Hash object per
 * call) and one reused 65-byte buffer for the 0x01 ‖ left ‖ right and
 * prev ‖ leaf inputs: the cheapest way this machine computes them, so the
 * stricter baseline. Same root as bareLoop.
 */
export function bareLoopOneShot(bytes: Buffer, offsets: Uint32Array, n: number): { root: Buffer; interior: number } {
  const two = (prefix: number | null, a: Uint8Array, b: Uint8Array): Buffer => {
    let at = 0;
    if (prefix !== null) SCRATCH[at++] = prefix;
    SCRATCH.set(a, at);
    SCRATCH.set(b, at + 32);
    return hash('sha256', SCRATCH.subarray(0, at + 64), 'buffer');
  };
  let chain: Buffer = Buffer.alloc(32);
  const stack: Buffer[] = [];
  let interior = 0;
  const leafInput = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < n; i++) {
    const len = offsets[i + 1] - offsets[i];
    // 0x00 ‖ entry bytes, copied next to the prefix (entries are far below 64 KiB; longer ones stream).
    let h: Buffer;
    if (len < leafInput.length) {
      leafInput[0] = 0;
      bytes.copy(leafInput, 1, offsets[i], offsets[i + 1]);
      h = hash('sha256', leafInput.subarray(0, len + 1), 'buffer');
    } else {
      h = sha(LEAF, bytes.subarray(offsets[i], offsets[i + 1]));
    }
    chain = two(null, chain, h);
    for (let s = i; s % 2 === 1; s = Math.floor(s / 2)) {
      h = two(1, stack.pop() as Buffer, h);
      interior++;
    }
    stack.push(h);
  }
  let root = stack[stack.length - 1];
  for (let i = stack.length - 2; i >= 0; i--) {
    root = two(1, stack[i], root);
    interior++;
  }
  if (chain.length !== 32) throw new Error('unreachable');
  return { root, interior };
}
