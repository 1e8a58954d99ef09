/**
 * C2SP tlog-proof (c2sp.org/tlog-proof@v1): a self-contained, offline
 * verifiable proof that an entry is in the log, as a text file. tds puts the
 * entry's bytes (its RFC 8785 text) in the `extra` line, so the receipt alone
 * recomputes the leaf hash; the checkpoint at the end carries the witnesses'
 * cosignatures. Pure: formatting, parsing and verification only.
 */
import { fromBase64, toBase64, utf8 } from '../crypto/sha256.js';
import type { NoteVerifier } from './checkpoint.js';
import { verifyCosignedCheckpoint, type CosignerKey, type CosignedCheckpoint } from './cosignature.js';
import { hashLeaf, verifyInclusion } from './merkle.js';
import { LedgerError } from './ledger-error.js';

/** First line of every proof. */
export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
const MAX_PROOF_LINES = 63;

/** The parts of a proof: optional extra bytes, the leaf index, the inclusion proof and the checkpoint note verbatim. */
export interface TlogProof {
  extra?: Uint8Array;
  index: number;
  proof: Uint8Array[];
  checkpoint: string;
}

/** The proof text: header, `extra` (if any), `index`, one base64 hash per line, a blank line, then the checkpoint. */
export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) throw new RangeError('index must be a non-negative integer');
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map(toBase64));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

/** Parses a proof; throws a LedgerError (LEDGER_MALFORMED_PROOF) saying which line is wrong. */
export function parseTlogProof(text: string): TlogProof {
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new LedgerError('LEDGER_MALFORMED_PROOF', 'malformed tlog proof: no blank line before the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (head[0] !== TLOG_PROOF_HEADER) throw new LedgerError('LEDGER_MALFORMED_PROOF', `malformed tlog proof: first line must be ${TLOG_PROOF_HEADER}`);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (head[i]?.startsWith('extra ')) {
    try {
      extra = fromBase64(head[i].slice('extra '.length));
    } catch {
      throw new LedgerError('LEDGER_MALFORMED_PROOF', 'malformed tlog proof: extra is not base64');
    }
    i++;
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(head[i] ?? '');
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new LedgerError('LEDGER_MALFORMED_PROOF', 'malformed tlog proof: expected an "index N" line');
  i++;
  const hashes = head.slice(i);
  if (hashes.length > MAX_PROOF_LINES) throw new LedgerError('LEDGER_MALFORMED_PROOF', 'malformed tlog proof: too many proof lines');
  const proof = hashes.map((h, k) => {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(h);
    } catch {
      throw new LedgerError('LEDGER_MALFORMED_PROOF', `malformed tlog proof: proof line ${k + 1} is not base64`);
    }
    if (bytes.length !== 32) throw new LedgerError('LEDGER_MALFORMED_PROOF', `malformed tlog proof: proof line ${k + 1} is not a SHA-256 hash`);
    return bytes;
  });
  return { extra, index: Number(m[1]), proof, checkpoint };
}

/** What a verified receipt proves: the entry (parsed from extra), its index and the cosigned checkpoint it is included in. */
export interface VerifiedReceipt extends CosignedCheckpoint {
  index: number;
  entryText: string;
  entry: Record<string, unknown>;
}

/** The kind of the entry a receipt proves: the job's release. */
export const RELEASE_KIND = 'job.authorized';

/**
 * Verifies a tds receipt offline: the checkpoint's log signature and witness
 * quorum, the entry bytes from `extra` (a JSON object whose `index` is the
 * proof's index), the inclusion of SHA-256(0x00 || bytes) under the signed
 * root, and that the entry is a job's release (kind `job.authorized`).
 * Throws a LedgerError naming the first check that failed.
 */
export function verifyReceipt(text: string, logKey: NoteVerifier, witnesses: CosignerKey[], quorum: number): VerifiedReceipt {
  const p = parseTlogProof(text);
  const cosigned = verifyCosignedCheckpoint(p.checkpoint, logKey, witnesses, quorum);
  if (p.extra === undefined) throw new LedgerError('LEDGER_MALFORMED_RECEIPT', 'receipt has no extra line: the entry bytes are missing');
  const entryText = new TextDecoder('utf-8', { fatal: true }).decode(p.extra);
  let entry: unknown;
  try {
    entry = JSON.parse(entryText);
  } catch {
    throw new LedgerError('LEDGER_MALFORMED_RECEIPT', 'receipt extra is not a JSON ledger entry');
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new LedgerError('LEDGER_MALFORMED_RECEIPT', 'receipt extra is not a JSON object');
  const e = entry as Record<string, unknown>;
  if (e.index !== p.index) throw new LedgerError('LEDGER_RECEIPT_MISMATCH', `receipt entry says index ${String(e.index)} but the proof is for index ${p.index}`);
  if (p.index >= cosigned.checkpoint.size) throw new LedgerError('LEDGER_BAD_PROOF', `index ${p.index} is not below the checkpoint size ${cosigned.checkpoint.size}`);
  try {
    verifyInclusion(p.index, cosigned.checkpoint.size, hashLeaf(utf8(entryText)), p.proof, cosigned.checkpoint.rootHash);
  } catch (err) {
    throw new LedgerError('LEDGER_BAD_PROOF', `entry ${p.index} is not proven included in checkpoint size ${cosigned.checkpoint.size}: ${(err as Error).message}`, { cause: err });
  }
  // A true proof of any other entry (a registration, a denial) proves no release: it is not a receipt.
  if (e.kind !== RELEASE_KIND) throw new LedgerError('LEDGER_RECEIPT_NOT_RELEASE', `entry ${p.index} is ${typeof e.kind === 'string' ? `a ${e.kind} entry` : 'an entry without a kind'}, not ${RELEASE_KIND}: not a job's release receipt`);
  return { ...cosigned, index: p.index, entryText, entry: e };
}
