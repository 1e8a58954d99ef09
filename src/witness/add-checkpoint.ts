/**
 * The decision of C2SP tlog-witness v1.0.0 `add-checkpoint`, pure: parse the
 * request body, check it against the trusted log keys and the latest
 * checkpoint this witness cosigned for that origin, and either refuse with the
 * spec's status code or cosign. Where v1.0.0 and its later revisions differ
 * (same size with another root) the later 422 is used, as the SPEC asks. The
 * server persists the new record before it sends the cosignature.
 */
import { fromBase64, toBase64 } from '../crypto/sha256.js';
import { parseCheckpointBody, verifyNote, type NoteVerifier } from '../ledger/checkpoint.js';
import { cosign } from '../ledger/cosignature.js';
import { EMPTY_ROOT, verifyConsistency } from '../ledger/merkle.js';
import { splitNote } from '../ledger/note.js';

/** What the witness keeps per origin: the latest cosigned size and root, and that checkpoint in full (log signature and cosignature). */
export interface WitnessRecord {
  origin: string;
  size: number;
  rootHash: string;
  checkpoint: string;
}

/** A parsed request: old size, consistency proof and the checkpoint note verbatim. */
export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  checkpoint: string;
}

/** The answer: status, body and content type; `record` is what must be persisted before a 200 is sent. */
export interface AddCheckpointOutcome {
  status: 200 | 400 | 403 | 404 | 409 | 422;
  body: string;
  contentType: string;
  record?: WitnessRecord;
  /** True when the log signed something inconsistent: worth keeping as evidence. */
  misbehaviour?: boolean;
}

/** The witness's identity and the logs it follows (origin -> trusted keys). */
export interface WitnessIdentity {
  name: string;
  secretKey: Uint8Array;
  logs: Map<string, NoteVerifier[]>;
}

/** The request is malformed: 400. */
export class BadRequest extends Error {}

const MAX_PROOF_LINES = 63;
const TEXT = 'text/plain; charset=utf-8';

const refuse = (status: AddCheckpointOutcome['status'], message: string, misbehaviour = false): AddCheckpointOutcome => ({ status, body: `${message}\n`, contentType: TEXT, misbehaviour });

/** Parses `old N\n<proof lines>\n\n<checkpoint>`; throws BadRequest on anything else. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new BadRequest('request must be an old size line, proof lines, an empty line and a checkpoint');
  const lines = body.slice(0, blank).split('\n');
  const m = /^old (0|[1-9][0-9]*)$/.exec(lines[0]);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new BadRequest('first line must be "old <size>" in decimal without leading zeros');
  const hashes = lines.slice(1);
  if (hashes.length > MAX_PROOF_LINES) throw new BadRequest(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = hashes.map((h) => {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(h);
    } catch {
      throw new BadRequest('a consistency proof line is not base64');
    }
    if (bytes.length !== 32) throw new BadRequest('a consistency proof line is not a 32-byte hash');
    return bytes;
  });
  return { oldSize: Number(m[1]), proof, checkpoint: body.slice(blank + 2) };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Decides one add-checkpoint request against `latest` (the record of the
 * checkpoint's origin, if any): 404 unknown origin, 403 not signed by a
 * trusted log key, 400 old > size, 409 old is not the latest size (body: that
 * size), 422 bad proof, same size with another root (misbehaviour) or a
 * non-empty proof for old 0 or old equal to the size (a malformed request, not
 * evidence), else 200 with a cosignature at `now` (POSIX seconds) and the
 * record to persist.
 */
export function decideAddCheckpoint(body: string, latestOf: (origin: string) => WitnessRecord | undefined, id: WitnessIdentity, now: number): AddCheckpointOutcome {
  let req: AddCheckpointRequest;
  let noteBody: string;
  let cp: ReturnType<typeof parseCheckpointBody>;
  try {
    req = parseAddCheckpoint(body);
    noteBody = splitNote(req.checkpoint).body;
    cp = parseCheckpointBody(noteBody);
  } catch (err) {
    return refuse(400, (err as Error).message);
  }
  const keys = id.logs.get(cp.origin);
  if (!keys) return refuse(404, `unknown log origin ${cp.origin}`);
  // Signatures of unknown keys are ignored; a trusted key's signature that fails is a refusal (signed-note).
  const verified = keys.some((k) => {
    try {
      verifyNote(req.checkpoint, k);
      return true;
    } catch {
      return false;
    }
  });
  if (!verified) return refuse(403, `checkpoint is not signed by a trusted key of ${cp.origin}`);
  if (req.oldSize > cp.size) return refuse(400, `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`);
  const latest = latestOf(cp.origin);
  const latestSize = latest?.size ?? 0;
  if (req.oldSize !== latestSize) return { status: 409, body: `${latestSize}\n`, contentType: 'text/x.tlog.size' };
  if (cp.size === 0 && !sameBytes(cp.rootHash, EMPTY_ROOT)) return refuse(422, 'a checkpoint of size 0 must have the empty tree root', true);
  if (req.oldSize === 0) {
    if (req.proof.length > 0) return refuse(422, 'the consistency proof must be empty when old is 0');
  } else if (req.oldSize === cp.size) {
    // The root decides whether the log forked; a proof here is only a malformed request (tlog-witness: empty for equal sizes).
    if (!sameBytes(fromBase64(latest!.rootHash), cp.rootHash)) return refuse(422, `checkpoint size ${cp.size} has another root than the one cosigned`, true);
    if (req.proof.length > 0) return refuse(422, `the consistency proof must be empty when old equals the checkpoint size ${cp.size}`);
  } else {
    try {
      verifyConsistency(req.oldSize, cp.size, req.proof, fromBase64(latest!.rootHash), cp.rootHash);
    } catch (err) {
      return refuse(422, `consistency proof from ${req.oldSize} to ${cp.size} does not verify: ${(err as Error).message}`, true);
    }
  }
  const line = cosign(noteBody, id.name, id.secretKey, now);
  const record: WitnessRecord = { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash), checkpoint: `${req.checkpoint}${line}` };
  return { status: 200, body: line, contentType: TEXT, record };
}
