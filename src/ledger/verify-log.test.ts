import { generateKeyPair } from '../crypto/ed25519.js';
import { toBase64 } from '../crypto/sha256.js';
import { chainHash, ZERO_HASH } from './chain.js';
import { formatCheckpointBody, signNote, verifierKey } from './checkpoint.js';
import { leafHashOfEntry, type LedgerEntry } from './ledger-entry.js';
import { consistencyProof, rootFromLeafHashes } from './merkle.js';
import { verifyLog, type ServedEntry, type VerifyLogResult } from './verify-log.js';

const ORIGIN = 'tds.test/ledger';
const { secretKey, publicKey } = generateKeyPair();
const KEY = verifierKey(ORIGIN, publicKey);
const N = 1000;

function makeEntry(index: number, note = 'generated'): LedgerEntry {
  return {
    v: 1,
    index,
    kind: index % 3 === 0 ? 'job.authorized' : 'contract.signed',
    at: new Date(Date.UTC(2025, 0, 1) + index * 1000).toISOString(),
    actor: `p_${index % 17}`,
    subjects: { contract: `c_${index % 23}` },
    data: { n: index, note },
  };
}

/** Serve entries the way the API does: hashes recomputed in order (what an honest or a careful forger writes). */
function serve(entries: unknown[]): ServedEntry[] {
  let chain = ZERO_HASH;
  return entries.map((entry, index) => {
    const leaf = leafHashOfEntry(entry as LedgerEntry);
    chain = chainHash(chain, leaf);
    return { index, entry, leafHash: toBase64(leaf), chainHash: toBase64(chain) };
  });
}

function checkpointOf(served: ServedEntry[], size = served.length, origin = ORIGIN, key = secretKey): string {
  const root = rootFromLeafHashes(served.slice(0, size).map((s) => leafHashOfEntry(s.entry as LedgerEntry)));
  return signNote(formatCheckpointBody({ origin, size, rootHash: root }), origin, key);
}

const honest = serve(Array.from({ length: N }, (_, i) => makeEntry(i)));
const note = checkpointOf(honest);
const clone = (): ServedEntry[] => honest.map((s) => ({ ...s, entry: JSON.parse(JSON.stringify(s.entry)) as unknown }));
const verify = (entries: ServedEntry[], extra: Partial<Parameters<typeof verifyLog>[0]> = {}): VerifyLogResult =>
  verifyLog({ entries, checkpointNote: note, verifierKey: KEY, ...extra });

describe('verifyLog on an untampered log', () => {
  it('passes and reports the signed root', () => {
    const leaves = honest.map((s) => leafHashOfEntry(s.entry as LedgerEntry));
    expect(verify(honest)).toEqual({ ok: true, size: N, rootHash: toBase64(rootFromLeafHashes(leaves)), entries: N });
  });
  it('passes without the served hashes (only the entries are authoritative)', () => {
    expect(verify(honest.map(({ index, entry }) => ({ index, entry }))).ok).toBe(true);
  });
  it('verifies the prefix a checkpoint covers when more entries were served', () => {
    expect(verify(honest, { checkpointNote: checkpointOf(honest, 600) })).toMatchObject({ ok: true, size: 600, entries: N });
  });
  it('accepts the empty log', () => {
    expect(verifyLog({ entries: [], checkpointNote: checkpointOf([]), verifierKey: KEY })).toMatchObject({ ok: true, size: 0 });
  });
});

describe('verifyLog names the first bad entry', () => {
  it('a changed byte in an entry', () => {
    const t = clone();
    (t[17].entry as LedgerEntry).data.note = 'generatee';
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: 17, problem: 'entry 17: leaf hash mismatch (entry bytes changed)' });
  });
  it('a changed entry whose leaf hash was recomputed', () => {
    const t = clone();
    (t[17].entry as LedgerEntry).actor = 'p_mallory';
    t[17].leafHash = toBase64(leafHashOfEntry(t[17].entry as LedgerEntry));
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_CHAIN_MISMATCH', firstBadIndex: 17, problem: 'entry 17: chain hash mismatch' });
  });
  it('an entry that is no longer a JSON object', () => {
    const t = clone();
    t[17].entry = '{"actor":"p_1",';
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: 17 });
  });
  it('a deleted entry', () => {
    const t = clone();
    t.splice(17, 1);
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_MISSING', firstBadIndex: 17, problem: expect.stringMatching(/^entry 17: missing/) });
  });
  it('a deleted entry with the later ones renumbered', () => {
    const t = clone();
    t.splice(17, 1);
    t.forEach((s, i) => (s.index = i));
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_REORDERED', firstBadIndex: 17, problem: 'entry 17: index field says 18 (entry missing, inserted or reordered)' });
  });
  it('two swapped entries', () => {
    const t = clone();
    [t[17], t[420]] = [{ ...t[420], index: 17 }, { ...t[17], index: 420 }];
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_REORDERED', firstBadIndex: 17, problem: expect.stringContaining('index field says 420') });
  });
  it('an inserted entry with consistent hashes (later rows shifted, their hashes kept)', () => {
    const t = clone();
    const forged = makeEntry(17, 'forged');
    const leaf = leafHashOfEntry(forged);
    const chain = chainHash(Buffer.from(t[16].chainHash!, 'base64'), leaf);
    t.splice(17, 0, { index: 17, entry: forged, leafHash: toBase64(leaf), chainHash: toBase64(chain) });
    t.forEach((s, i) => (s.index = i));
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_INSERTED', firstBadIndex: 17, problem: expect.stringMatching(/^entry 17: inserted/) });
  });
  it('an entry inserted at the very start', () => {
    const t = clone();
    t.unshift({ ...serve([makeEntry(0, 'forged')])[0] });
    t.forEach((s, i) => (s.index = i));
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_INSERTED', firstBadIndex: 0, problem: expect.stringMatching(/^entry 0: inserted/) });
  });
  it('an inserted entry with made-up hashes', () => {
    const t = clone();
    t.splice(17, 0, { index: 17, entry: makeEntry(17, 'forged'), leafHash: t[17].leafHash, chainHash: t[17].chainHash });
    t.forEach((s, i) => (s.index = i));
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: 17, problem: 'entry 17: leaf hash mismatch (entry bytes changed)' });
  });
  it('a missing tail', () => {
    expect(verify(clone().slice(0, 990))).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_MISSING', firstBadIndex: 990, problem: expect.stringMatching(/^entry 990: missing/) });
  });
  it('an entry with another encoding version', () => {
    const t = clone();
    (t[5].entry as { v: number }).v = 2;
    expect(verify(t)).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_CHANGED', firstBadIndex: 5, problem: expect.stringContaining('encoding version') });
  });
});

describe('verifyLog against the signed checkpoint', () => {
  it('reports a self-consistent rewritten tail as a root mismatch without an index', () => {
    const rewritten = serve(honest.map((s, i) => (i === 500 ? makeEntry(500, 'rewritten') : s.entry)));
    expect(verify(rewritten)).toMatchObject({ ok: false, code: 'LEDGER_ROOT_MISMATCH', firstBadIndex: null, problem: 'root does not match the signed checkpoint' });
  });
  it('refuses a checkpoint signed by another key, of another origin, or altered', () => {
    const other = generateKeyPair().secretKey;
    expect(verify(honest, { checkpointNote: checkpointOf(honest, N, ORIGIN, other) })).toMatchObject({ ok: false, code: 'LEDGER_NOT_SIGNED', firstBadIndex: null, problem: expect.stringMatching(/^checkpoint: /) });
    expect(verify(honest, { verifierKey: verifierKey('tds.other/ledger', publicKey), checkpointNote: checkpointOf(honest, N) })).toMatchObject({ ok: false, code: 'LEDGER_NOT_SIGNED', firstBadIndex: null });
    expect(verify(honest, { checkpointNote: note.replace(`\n${N}\n`, `\n${N - 1}\n`) })).toMatchObject({ ok: false, code: 'LEDGER_BAD_SIGNATURE', problem: expect.stringMatching(/^checkpoint: invalid signature/) });
    expect(verify(honest, { verifierKey: 'not a key' })).toMatchObject({ ok: false, code: 'LEDGER_MALFORMED_VERIFIER_KEY', problem: expect.stringMatching(/^verifier key: /) });
  });
});

describe('verifyLog against the checkpoint verified before', () => {
  const leaves = honest.map((s) => leafHashOfEntry(s.entry as LedgerEntry));
  const previous = { size: 300, rootHash: toBase64(rootFromLeafHashes(leaves.slice(0, 300))) };
  const proof = consistencyProof(300, N, leaves).map(toBase64);

  it('passes with a valid consistency proof', () => {
    expect(verify(honest, { previous, consistencyProof: proof }).ok).toBe(true);
    expect(verify(honest, { previous: { size: N, rootHash: toBase64(rootFromLeafHashes(leaves)) }, consistencyProof: [] }).ok).toBe(true);
  });
  it('refuses a wrong consistency proof', () => {
    const wrong = [...proof].reverse();
    expect(verify(honest, { previous, consistencyProof: wrong })).toMatchObject({ ok: false, code: 'LEDGER_INCONSISTENT', firstBadIndex: null, problem: expect.stringMatching(/^consistency proof/) });
  });
  it('detects history rewritten since the previous checkpoint, even when the new one is signed', () => {
    const rewritten = serve(honest.map((s, i) => (i === 100 ? makeEntry(100, 'rewritten') : s.entry)));
    expect(verify(rewritten, { previous, checkpointNote: checkpointOf(rewritten) })).toMatchObject({ ok: false, code: 'LEDGER_HISTORY_REWRITTEN', firstBadIndex: null, problem: expect.stringContaining('history was rewritten') });
  });
  it('detects a rollback to an older checkpoint', () => {
    const older = checkpointOf(honest, 200);
    expect(verify(honest, { previous, checkpointNote: older })).toMatchObject({ ok: false, code: 'LEDGER_ROLLED_BACK', firstBadIndex: null, problem: expect.stringContaining('rolled back') });
  });
});
