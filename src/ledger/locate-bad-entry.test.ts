import { generateKeyPair } from '../crypto/ed25519.js';
import { toBase64 } from '../crypto/sha256.js';
import { chainHash, ZERO_HASH } from './chain.js';
import { formatCheckpointBody, signNote, verifierKey } from './checkpoint.js';
import { leafHashOfEntry, type LedgerEntry } from './ledger-entry.js';
import { inclusionProof, rootFromLeafHashes } from './merkle.js';
import { verifyLogLocating, type InclusionProofSource } from './locate-bad-entry.js';
import type { ServedEntry } from './verify-log.js';

const ORIGIN = 'tds.test/ledger';
const { secretKey, publicKey } = generateKeyPair();
const KEY = verifierKey(ORIGIN, publicKey);
const N = 1000;

function makeEntry(index: number, note = 'generated'): LedgerEntry {
  return { v: 1, index, kind: 'contract.signed', at: new Date(Date.UTC(2025, 0, 1) + index * 1000).toISOString(), actor: `p_${index % 17}`, subjects: { contract: `c_${index % 23}` }, data: { n: index, note } };
}

/** Hashes recomputed in order from `from` on, the way a careful forger rewrites a tail; earlier served hashes are kept. */
function reserve(served: ServedEntry[], from = 0): ServedEntry[] {
  let chain = from === 0 ? ZERO_HASH : Buffer.from(served[from - 1].chainHash!, 'base64');
  return served.map((s, index) => {
    if (index < from) return s;
    const leaf = leafHashOfEntry(s.entry as LedgerEntry);
    chain = chainHash(chain, leaf);
    return { index, entry: s.entry, leafHash: toBase64(leaf), chainHash: toBase64(chain) };
  });
}

const honest = reserve(Array.from({ length: N }, (_, i) => ({ index: i, entry: makeEntry(i) })));
const honestLeaves = honest.map((s) => leafHashOfEntry(s.entry as LedgerEntry));
const clone = (): ServedEntry[] => honest.map((s) => ({ ...s, entry: JSON.parse(JSON.stringify(s.entry)) as unknown }));
const checkpoint = (leaves: Uint8Array[], size = leaves.length) => signNote(formatCheckpointBody({ origin: ORIGIN, size, rootHash: rootFromLeafHashes(leaves.slice(0, size)) }), ORIGIN, secretKey);
const note = checkpoint(honestLeaves);

/** The service's proofs from its (untouched) tree nodes, counting how many were asked for. */
function proofsFrom(leaves: Uint8Array[]): InclusionProofSource & { asked: number } {
  const source = Object.assign(async (index: number, treeSize: number) => {
    source.asked++;
    return { leafHash: toBase64(leaves[index]), proof: inclusionProof(index, treeSize, leaves).map(toBase64) };
  }, { asked: 0 });
  return source;
}

/** Entry i altered, then the leaf hash and chain hashes recomputed from i to `through` (inclusive; default: the whole tail). */
function alter(i: number, through = N - 1): ServedEntry[] {
  const t = clone();
  (t[i].entry as LedgerEntry).actor = 'p_mallory';
  const rechained = reserve(t, i);
  return t.map((s, k) => (k >= i && k <= through ? rechained[k] : s));
}

describe('verifyLogLocating names an entry altered with its hashes recomputed', () => {
  it.each([0, 1, 2, 17, 255, 256, 511, 512, 513, 998, 999])('a self-consistent tail rewritten from entry %i', async (i) => {
    const proofs = proofsFrom(honestLeaves);
    const result = await verifyLogLocating({ entries: alter(i), checkpointNote: note, verifierKey: KEY }, proofs);
    expect(result).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: i, problem: expect.stringMatching(new RegExp(`^entry ${i}: .*commits to.*root does not match the signed checkpoint`)) });
    // A walk down the tree: one proof per level at most.
    expect(proofs.asked).toBeLessThanOrEqual(Math.ceil(Math.log2(N)) + 1);
  });

  it.each([0, 17, 512, 998])('only entry %i re-hashed (the next chain hash shows it)', async (i) => {
    const result = await verifyLogLocating({ entries: alter(i, i), checkpointNote: note, verifierKey: KEY }, proofsFrom(honestLeaves));
    expect(result).toMatchObject({ ok: false, firstBadIndex: i, problem: expect.stringContaining(`entry ${i + 1}: chain hash mismatch`) });
  });

  it('entries re-hashed up to some later entry', async () => {
    expect(await verifyLogLocating({ entries: alter(40, 700), checkpointNote: note, verifierKey: KEY }, proofsFrom(honestLeaves))).toMatchObject({ firstBadIndex: 40 });
  });

  it('keeps the index the entries show when nothing before it differs from the tree', async () => {
    const chainOnly = clone();
    chainOnly[17].chainHash = toBase64(new Uint8Array(32));
    expect(await verifyLogLocating({ entries: chainOnly, checkpointNote: note, verifierKey: KEY }, proofsFrom(honestLeaves))).toMatchObject({ code: 'LEDGER_CHAIN_MISMATCH', firstBadIndex: 17 });
    const bytes = clone();
    (bytes[17].entry as LedgerEntry).data.note = 'x';
    expect(await verifyLogLocating({ entries: bytes, checkpointNote: note, verifierKey: KEY }, proofsFrom(honestLeaves))).toMatchObject({ code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: 17, problem: 'entry 17: leaf hash mismatch (entry bytes changed)' });
    const deleted = clone();
    deleted.splice(17, 1);
    expect(await verifyLogLocating({ entries: deleted, checkpointNote: note, verifierKey: KEY }, proofsFrom(honestLeaves))).toMatchObject({ code: 'LEDGER_ENTRY_MISSING', firstBadIndex: 17 });
  });

  it('passes an untampered log without asking for a single proof', async () => {
    const proofs = proofsFrom(honestLeaves);
    expect(await verifyLogLocating({ entries: honest, checkpointNote: note, verifierKey: KEY }, proofs)).toMatchObject({ ok: true });
    expect(proofs.asked).toBe(0);
  });

  it('searches only the prefix the checkpoint covers', async () => {
    const result = await verifyLogLocating({ entries: alter(300), checkpointNote: checkpoint(honestLeaves, 600), verifierKey: KEY }, proofsFrom(honestLeaves));
    expect(result).toMatchObject({ firstBadIndex: 300, problem: expect.stringContaining('checkpoint of size 600') });
  });

  it('names the entry against the checkpoint verified before when the new one was re-signed over the rewrite', async () => {
    const rewritten = alter(100);
    const forgedLeaves = rewritten.map((s) => leafHashOfEntry(s.entry as LedgerEntry));
    const previous = { size: 300, rootHash: toBase64(rootFromLeafHashes(honestLeaves.slice(0, 300))) };
    // The insider rewrote the tree too (the new checkpoint's proofs), but old checkpoints commit to the old leaves.
    const proofs: InclusionProofSource = async (index, treeSize) => (treeSize === 300 ? proofsFrom(honestLeaves) : proofsFrom(forgedLeaves))(index, treeSize);
    const result = await verifyLogLocating({ entries: rewritten, checkpointNote: checkpoint(forgedLeaves), verifierKey: KEY, previous }, proofs);
    expect(result).toMatchObject({ firstBadIndex: 100, problem: expect.stringMatching(/checkpoint of size 300 commits to.*history was rewritten/) });
  });
});

describe('verifyLogLocating never believes the service', () => {
  it('reports the entry as unlocated when the service\'s proofs come from a rewritten tree', async () => {
    const rewritten = alter(17);
    const forged = rewritten.map((s) => leafHashOfEntry(s.entry as LedgerEntry));
    const result = await verifyLogLocating({ entries: rewritten, checkpointNote: note, verifierKey: KEY }, proofsFrom(forged));
    expect(result).toMatchObject({ code: 'LEDGER_ROOT_MISMATCH', firstBadIndex: null, problem: expect.stringMatching(/cannot be named: .*does not lead to the signed root/) });
  });

  it('names no innocent entry with made-up proofs, and survives a failing proof source', async () => {
    const junk: InclusionProofSource = async (index, treeSize) => ({ leafHash: toBase64(new Uint8Array(32).fill(index % 256)), proof: inclusionProof(0, treeSize, honestLeaves).map(() => toBase64(new Uint8Array(32).fill(9))) });
    expect(await verifyLogLocating({ entries: alter(17), checkpointNote: note, verifierKey: KEY }, junk)).toMatchObject({ firstBadIndex: null });
    const failing: InclusionProofSource = async () => {
      throw new Error('503 from the service');
    };
    expect(await verifyLogLocating({ entries: alter(17), checkpointNote: note, verifierKey: KEY }, failing)).toMatchObject({ firstBadIndex: null, problem: expect.stringContaining('503 from the service') });
    // The index the entries themselves show stays, with the warning that earlier ones were not checked.
    expect(await verifyLogLocating({ entries: alter(17, 17), checkpointNote: note, verifierKey: KEY }, failing)).toMatchObject({ firstBadIndex: 18, problem: expect.stringContaining('entries before 18 could not be checked') });
  });

  it('without proofs (an offline bundle) says how to name the entry', async () => {
    expect(await verifyLogLocating({ entries: alter(17), checkpointNote: note, verifierKey: KEY })).toMatchObject({ code: 'LEDGER_ROOT_MISMATCH', firstBadIndex: null, problem: expect.stringContaining('verify against the service') });
  });
});
