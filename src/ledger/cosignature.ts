/**
 * C2SP tlog-cosignature/v1 (v1.0.1) with Ed25519: the witness's timestamped
 * signature over a checkpoint, its key id and verifier key (signature type
 * 0x04), and the quorum check a verifier makes over a cosigned checkpoint.
 * Pure (no I/O, no node: imports) so the CLI, the service, the witness and the
 * browser console all run the same code.
 */
import { sign, verify, publicKeyOf } from '../crypto/ed25519.js';
import { fromBase64, fromHex, sha256, toBase64, toHex, utf8 } from '../crypto/sha256.js';
import { openNote, type NoteVerifier, type ParsedCheckpoint } from './checkpoint.js';
import { splitNote } from './note.js';
import { LedgerError } from './ledger-error.js';

/** Signature type byte of timestamped Ed25519 witness cosignatures (signed-note, tlog-cosignature). */
export const ALG_COSIGNATURE_V1 = 0x04;
const SIG_PREFIX = '\u2014 ';
// 2^63 - 1 is the spec's bound; timestamps are seconds, so safe integers cover every real time.
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

/** A cosigner: name, 4-byte key id (type 0x04) and 32-byte Ed25519 public key. */
export type CosignerKey = NoteVerifier;

/** A verified cosignature: which cosigner, when (POSIX seconds), and its signature line as it appears in the note. */
export interface Cosignature {
  name: string;
  keyId: string;
  timestamp: number;
  line: string;
}

/** Key id of a cosigner: SHA-256(name || 0x0A || 0x04 || public key)[:4]. */
export function cosignerKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(utf8(name), new Uint8Array([0x0a, ALG_COSIGNATURE_V1]), publicKey).slice(0, 4);
}

function checkName(name: string): void {
  if (name === '' || /[\s\u0085+]/u.test(name)) throw new LedgerError('LEDGER_INVALID_NAME', 'invalid cosigner name: must be non-empty without spaces or "+"');
}

/** The vkey text `<name>+<hex key id>+<base64(0x04 || public key)>` of a cosigner. */
export function cosignerVerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (publicKey.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
  return `${name}+${toHex(cosignerKeyId(name, publicKey))}+${toBase64(new Uint8Array([ALG_COSIGNATURE_V1, ...publicKey]))}`;
}

/** Parses a cosigner vkey and checks it is self-consistent (type 0x04, 32-byte key, matching key id); throws otherwise. */
export function parseCosignerKey(text: string): CosignerKey {
  const t = text.trim();
  // The base64 key may itself contain '+': split at the first two only.
  const first = t.indexOf('+');
  const second = first < 0 ? -1 : t.indexOf('+', first + 1);
  if (second < 0) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed witness key: expected <name>+<key id>+<key>');
  const [name, idHex, keyText] = [t.slice(0, first), t.slice(first + 1, second), t.slice(second + 1)];
  checkName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed witness key: key id must be 8 hex digits');
  let keyData: Uint8Array;
  try {
    keyData = fromBase64(keyText);
  } catch {
    throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed witness key: key is not base64');
  }
  if (keyData.length !== 33 || keyData[0] !== ALG_COSIGNATURE_V1) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed witness key: not a cosignature/v1 Ed25519 key (type 0x04)');
  const publicKey = keyData.slice(1);
  if (toHex(fromHex(idHex)) !== toHex(cosignerKeyId(name, publicKey))) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed witness key: key id does not match name and key');
  return { name, keyId: fromHex(idHex), publicKey };
}

/** The signed message: `cosignature/v1\ntime <t>\n` followed by the checkpoint body (with its final newline). */
export function cosignatureMessage(body: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP) throw new RangeError('timestamp must be a non-negative integer');
  if (!body.endsWith('\n')) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'checkpoint body must end with a newline');
  return utf8(`cosignature/v1\ntime ${timestamp}\n${body}`);
}

function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Cosigns a checkpoint body at `timestamp`: the note signature line `— <name> base64(keyid || timestamp u64 BE || signature)` with its newline. */
export function cosign(body: string, name: string, secretKey: Uint8Array, timestamp: number): string {
  checkName(name);
  const keyId = cosignerKeyId(name, publicKeyOf(secretKey));
  const sig = sign(cosignatureMessage(body, timestamp), secretKey);
  return `${SIG_PREFIX}${name} ${toBase64(new Uint8Array([...keyId, ...u64be(timestamp), ...sig]))}\n`;
}

/**
 * The cosignatures of `cosigner` among the signature lines, verified over
 * `body`. Lines of other keys (another name or key id) are ignored; a line
 * of this key that does not verify throws, as signed-note asks.
 */
export function cosignaturesBy(body: string, signatureLines: string[], cosigner: CosignerKey): Cosignature[] {
  const wantId = toHex(cosigner.keyId);
  const out: Cosignature[] = [];
  for (const line of signatureLines) {
    const rest = line.startsWith(SIG_PREFIX) ? line.slice(SIG_PREFIX.length) : '';
    const space = rest.indexOf(' ');
    if (space < 0 || rest.slice(0, space) !== cosigner.name) continue;
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(space + 1));
    } catch {
      continue;
    }
    if (raw.length < 4 || toHex(raw.subarray(0, 4)) !== wantId) continue;
    if (raw.length !== 4 + 8 + 64) throw new LedgerError('LEDGER_MALFORMED_COSIGNATURE', `malformed cosignature from ${cosigner.name}+${wantId}: expected 76 bytes, got ${raw.length}`);
    let ts = 0n;
    for (const b of raw.subarray(4, 12)) ts = (ts << 8n) | BigInt(b);
    if (ts > BigInt(MAX_TIMESTAMP)) throw new LedgerError('LEDGER_MALFORMED_COSIGNATURE', `cosignature from ${cosigner.name}+${wantId} has an out-of-range timestamp`);
    const timestamp = Number(ts);
    if (!verify(raw.subarray(12), cosignatureMessage(body, timestamp), cosigner.publicKey)) throw new LedgerError('LEDGER_BAD_SIGNATURE', `invalid cosignature from ${cosigner.name}+${wantId}`);
    out.push({ name: cosigner.name, keyId: wantId, timestamp, line: `${line}\n` });
  }
  return out;
}

/** Result of {@link verifyCosignedCheckpoint}: the checkpoint and the witnesses whose cosignature verified. */
export interface CosignedCheckpoint {
  body: string;
  checkpoint: ParsedCheckpoint;
  cosigned: Cosignature[];
}

/**
 * Opens a cosigned checkpoint: the log's signature with `logKey` (origin =
 * the key name), then each configured witness's cosignature. Throws when
 * fewer than `quorum` distinct witnesses cosigned, naming who did and who did not.
 */
export function verifyCosignedCheckpoint(note: string, logKey: NoteVerifier, witnesses: CosignerKey[], quorum: number): CosignedCheckpoint {
  if (!Number.isSafeInteger(quorum) || quorum < 0) throw new RangeError('quorum must be a non-negative integer');
  if (quorum > witnesses.length) throw new RangeError(`quorum ${quorum} is larger than the ${witnesses.length} witness key(s) given`);
  const { body, checkpoint } = openNote(note, logKey, logKey.name);
  const { signatures } = splitNote(note);
  const cosigned: Cosignature[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const w of witnesses) {
    // The same key given twice counts once: a quorum is of distinct witnesses.
    const id = `${w.name}+${toHex(w.keyId)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const found = cosignaturesBy(body, signatures, w);
    if (found.length > 0) cosigned.push(found[0]);
    else missing.push(w.name);
  }
  if (cosigned.length < quorum) {
    throw new LedgerError(
      'LEDGER_QUORUM_UNMET',
      `checkpoint ${checkpoint.origin} size ${checkpoint.size} has ${cosigned.length} of the ${quorum} witness cosignature(s) required` +
        ` (cosigned by: ${cosigned.map((c) => c.name).join(', ') || 'none'}; missing: ${missing.join(', ')})`,
    );
  }
  return { body, checkpoint, cosigned };
}
