import { generateKeyPair, publicKeyOf } from '../crypto/ed25519.js';
import { formatCheckpointBody, parseVerifierKey, signNote, verifierKey } from './checkpoint.js';
import { cosign, cosignatureMessage, cosignaturesBy, cosignerVerifierKey, parseCosignerKey, verifyCosignedCheckpoint } from './cosignature.js';
import { addSignatures, splitNote } from './note.js';
import { formatTlogProof, parseTlogProof, verifyReceipt } from './tlog-proof.js';
import { hashLeaf, inclusionProof, rootFromLeafHashes } from './merkle.js';
import { utf8 } from '../crypto/sha256.js';
import { ledgerCode } from '../../test/helpers/ledger-code.js';

const log = generateKeyPair().secretKey;
const w1 = generateKeyPair().secretKey;
const w2 = generateKeyPair().secretKey;
const ORIGIN = 'example.test/log';
const logKey = parseVerifierKey(verifierKey(ORIGIN, publicKeyOf(log)));
const k1 = parseCosignerKey(cosignerVerifierKey('w1.test', publicKeyOf(w1)));
const k2 = parseCosignerKey(cosignerVerifierKey('w2.test', publicKeyOf(w2)));

function note(size: number, root: Uint8Array = new Uint8Array(32).fill(7)): { body: string; note: string } {
  const body = formatCheckpointBody({ origin: ORIGIN, size, rootHash: root });
  return { body, note: signNote(body, ORIGIN, log) };
}

describe('cosignature/v1', () => {
  it('signs the spec message: header, time line, then the checkpoint body', () => {
    expect(new TextDecoder().decode(cosignatureMessage('a\n1\nb\n', 1679315147))).toBe('cosignature/v1\ntime 1679315147\na\n1\nb\n');
  });

  it('round-trips: cosign, add to the note, verify with a quorum', () => {
    const { body, note: n } = note(10);
    const cosigned = addSignatures(n, [cosign(body, 'w1.test', w1, 100), cosign(body, 'w2.test', w2, 101)]);
    const v = verifyCosignedCheckpoint(cosigned, logKey, [k1, k2], 2);
    expect(v.cosigned.map((c) => [c.name, c.timestamp])).toEqual([['w1.test', 100], ['w2.test', 101]]);
    expect(ledgerCode(() => verifyCosignedCheckpoint(n, logKey, [k1, k2], 1))).toBe('LEDGER_QUORUM_UNMET');
    expect(ledgerCode(() => verifyCosignedCheckpoint(addSignatures(n, [cosign(body, 'w1.test', w1, 1)]), logKey, [k1, k2], 2))).toBe('LEDGER_QUORUM_UNMET');
    expect(ledgerCode(() => verifyCosignedCheckpoint(cosigned, logKey, [k1, k1], 2))).toBe('LEDGER_QUORUM_UNMET');
  });

  it('refuses a cosignature over another body or with a changed timestamp, ignores other keys', () => {
    const { body } = note(10);
    const other = note(11).body;
    const line = cosign(other, 'w1.test', w1, 5).trim();
    expect(ledgerCode(() => cosignaturesBy(body, [line], k1))).toBe('LEDGER_BAD_SIGNATURE');
    const raw = Buffer.from(cosign(body, 'w1.test', w1, 5).trim().split(' ')[2], 'base64');
    raw[11] ^= 1;
    expect(ledgerCode(() => cosignaturesBy(body, [`\u2014 w1.test ${raw.toString('base64')}`], k1))).toBe('LEDGER_BAD_SIGNATURE');
    expect(cosignaturesBy(body, [cosign(body, 'w2.test', w2, 5).trim()], k1)).toEqual([]);
    // A log signature (type 0x01 key id) under the witness's name is another key: ignored.
    expect(cosignaturesBy(body, splitNote(signNote(body, 'w1.test', w1)).signatures, k1)).toEqual([]);
  });

  it('parses only self-consistent type 0x04 keys', () => {
    expect(ledgerCode(() => parseCosignerKey(verifierKey('w1.test', publicKeyOf(w1))))).toBe('LEDGER_MALFORMED_VERIFIER_KEY');
    const text = cosignerVerifierKey('w1.test', publicKeyOf(w1));
    expect(ledgerCode(() => parseCosignerKey(text.replace('w1.test', 'w3.test')))).toBe('LEDGER_MALFORMED_VERIFIER_KEY');
    expect(ledgerCode(() => parseCosignerKey('nope'))).toBe('LEDGER_MALFORMED_VERIFIER_KEY');
  });
});

describe('tlog-proof receipts', () => {
  const entries = Array.from({ length: 7 }, (_, i) => JSON.stringify({ index: i, kind: 'job.authorized', v: 1 }));
  const leaves = entries.map((e) => hashLeaf(utf8(e)));

  it('formats and parses the c2sp.org/tlog-proof@v1 text, and verifies offline', () => {
    const { body, note: n } = note(7, rootFromLeafHashes(leaves));
    const cp = addSignatures(n, [cosign(body, 'w1.test', w1, 9)]);
    const text = formatTlogProof({ extra: utf8(entries[3]), index: 3, proof: inclusionProof(3, 7, leaves), checkpoint: cp });
    expect(text.split('\n').slice(0, 3)).toEqual(['c2sp.org/tlog-proof@v1', `extra ${Buffer.from(entries[3]).toString('base64')}`, 'index 3']);
    expect(parseTlogProof(text)).toMatchObject({ index: 3, checkpoint: cp });
    expect(verifyReceipt(text, logKey, [k1], 1)).toMatchObject({ index: 3, entry: { index: 3 } });
    expect(ledgerCode(() => verifyReceipt(text, logKey, [k1, k2], 2))).toBe('LEDGER_QUORUM_UNMET');
    const wrongEntry = formatTlogProof({ extra: utf8(entries[4]), index: 3, proof: inclusionProof(3, 7, leaves), checkpoint: cp });
    expect(ledgerCode(() => verifyReceipt(wrongEntry, logKey, [k1], 1))).toBe('LEDGER_RECEIPT_MISMATCH');
    const tampered = formatTlogProof({ extra: utf8(entries[3].replace('job.authorized', 'job.denied')), index: 3, proof: inclusionProof(3, 7, leaves), checkpoint: cp });
    expect(ledgerCode(() => verifyReceipt(tampered, logKey, [k1], 1))).toBe('LEDGER_BAD_PROOF');
    expect(ledgerCode(() => parseTlogProof(text.replace('index 3', 'index 03')))).toBe('LEDGER_MALFORMED_PROOF');
    expect(ledgerCode(() => parseTlogProof(text.replace('c2sp.org/tlog-proof@v1', 'x')))).toBe('LEDGER_MALFORMED_PROOF');
  });

  it('refuses a valid inclusion proof of an entry that is not a job.authorized release', () => {
    const mixed = [JSON.stringify({ index: 0, kind: 'participant.registered', v: 1 }), JSON.stringify({ index: 1, v: 1 }), ...entries.slice(2)];
    const mixedLeaves = mixed.map((e) => hashLeaf(utf8(e)));
    const { note: cp } = note(7, rootFromLeafHashes(mixedLeaves));
    const receiptOf = (i: number) => formatTlogProof({ extra: utf8(mixed[i]), index: i, proof: inclusionProof(i, 7, mixedLeaves), checkpoint: cp });
    expect(ledgerCode(() => verifyReceipt(receiptOf(0), logKey, [], 0))).toBe('LEDGER_RECEIPT_NOT_RELEASE');
    expect(() => verifyReceipt(receiptOf(0), logKey, [], 0)).toThrow(/participant\.registered/);
    expect(ledgerCode(() => verifyReceipt(receiptOf(1), logKey, [], 0))).toBe('LEDGER_RECEIPT_NOT_RELEASE');
    expect(verifyReceipt(receiptOf(2), logKey, [], 0)).toMatchObject({ index: 2, entry: { kind: 'job.authorized' } });
  });
});
