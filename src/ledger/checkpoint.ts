/**
 * Signed checkpoints in the C2SP formats: tlog-checkpoint for the body (origin,
 * tree size, root hash) and signed-note for the Ed25519 signature lines, byte
 * compatible with golang.org/x/mod/sumdb/note so that standard tooling
 * (witnesses, the Go verifier) can check our checkpoints and we can check theirs.
 * Pure: keys come in as bytes, text goes out as strings.
 */
import { sign, verify, publicKeyOf } from '../crypto/ed25519.js';
import { fromBase64, fromHex, sha256, toBase64, toHex, utf8 } from '../crypto/sha256.js';
import { LedgerError } from './ledger-error.js';

/** Signature type byte of Ed25519 in signed-note key ids and verifier keys. */
const ALG_ED25519 = 0x01;
/** Go's note.Open refuses more than 100 signature lines; C2SP requires accepting at least 16. */
const MAX_SIGNATURES = 100;
const SIG_PREFIX = '\u2014 ';

/** The three mandatory checkpoint fields: the log's origin line, its size, and its RFC 9162 root hash. */
export interface Checkpoint { origin: string; size: number; rootHash: Uint8Array }

/** A parsed checkpoint; `extensions` holds any optional extension lines (opaque, usually none). */
export interface ParsedCheckpoint extends Checkpoint { extensions: string[] }

/** An Ed25519 signed-note verifier: key name, 4-byte key id and 32-byte public key. */
export interface NoteVerifier { name: string; keyId: Uint8Array; publicKey: Uint8Array }

// Lone UTF-16 surrogates cannot be encoded as UTF-8; the note must be valid UTF-8.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is being refused
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000B-\u001F]/;

/** Key names as Go's isValidName: non-empty, well formed, no Unicode spaces (U+0085 included) and no '+'. */
function isValidName(name: string): boolean {
  return name !== '' && !LONE_SURROGATE.test(name) && !/[\s\u0085+]/u.test(name) && !CONTROL_EXCEPT_NEWLINE.test(name);
}

function checkNoteText(text: string): void {
  if (LONE_SURROGATE.test(text)) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: not valid UTF-8');
  if (CONTROL_EXCEPT_NEWLINE.test(text)) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: control character other than newline');
}

/**
 * The tlog-checkpoint note text: origin, decimal size and base64 root, each on
 * its own line, ending in a newline. Refuses values that would not parse back,
 * so the log never signs a body verifiers must reject.
 */
export function formatCheckpointBody({ origin, size, rootHash }: Checkpoint): string {
  if (origin === '' || origin.includes('\n')) throw new LedgerError('LEDGER_INVALID_NAME', 'origin must be a non-empty single line');
  checkNoteText(origin);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tree size must be a non-negative safe integer, got ${size}`);
  if (rootHash.length !== 32) throw new RangeError('root hash must be 32 bytes');
  return `${origin}\n${size}\n${toBase64(rootHash)}\n`;
}

/**
 * Parses a tlog-checkpoint note text (the verified body of a note): at least
 * three non-empty lines, a size in decimal without leading zeros, a base64
 * 32-byte root, then optional non-empty extension lines.
 */
export function parseCheckpointBody(body: string): ParsedCheckpoint {
  if (!body.endsWith('\n')) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: body must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: needs origin, size and root hash lines');
  if (lines.some((l) => l === '')) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: empty line');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: size must be decimal without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: size is too large');
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch {
    throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: root hash is not base64');
  }
  if (rootHash.length !== 32) throw new LedgerError('LEDGER_MALFORMED_CHECKPOINT', 'malformed checkpoint: root hash must be 32 bytes');
  return { origin, size, rootHash, extensions };
}

/** Signed-note key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || publicKey), as C2SP recommends and Go computes. */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(utf8(name), new Uint8Array([0x0a, ALG_ED25519]), publicKey).slice(0, 4);
}

/** The Go/C2SP verifier key text `<name>+<hex key id>+<base64(0x01 || publicKey)>` that auditors pin. */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidName(name)) throw new LedgerError('LEDGER_INVALID_NAME', 'invalid key name: must be non-empty without spaces or "+"');
  if (publicKey.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
  const keyData = new Uint8Array([ALG_ED25519, ...publicKey]);
  return `${name}+${toHex(noteKeyId(name, publicKey))}+${toBase64(keyData)}`;
}

/**
 * Parses a verifier key and checks it is self-consistent (Ed25519 type byte,
 * 32-byte key, key id matching name and key); throws on anything else. The
 * text must be exactly the key: trim a trailing newline before calling.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: expected <name>+<key id>+<key>');
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!isValidName(name)) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: invalid key name');
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: key id must be 8 hex digits');
  let keyData: Uint8Array;
  try {
    keyData = fromBase64(text.slice(second + 1));
  } catch {
    throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: key is not base64');
  }
  if (keyData.length !== 33 || keyData[0] !== ALG_ED25519) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: not an Ed25519 key');
  const publicKey = keyData.slice(1);
  const keyId = fromHex(idHex);
  if (toHex(keyId) !== toHex(noteKeyId(name, publicKey))) throw new LedgerError('LEDGER_MALFORMED_VERIFIER_KEY', 'malformed verifier key: key id does not match name and key');
  return { name, keyId, publicKey };
}

/**
 * What signs notes under one key name: the name, its 4-byte key id and the
 * Ed25519 signing function (in the service a node:crypto KeyObject imported
 * once, see noteSignerOf).
 */
export interface NoteSigner {
  name: string;
  keyId: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The note signer of `name` and this secret key. The key id (which needs the
 * public key, a curve multiplication) is derived once here, not per note;
 * `sign` defaults to the portable signer and can be a faster one for the same key.
 */
export function noteSignerOf(name: string, secretKey: Uint8Array, signWith: (message: Uint8Array) => Uint8Array = (m) => sign(m, secretKey)): NoteSigner {
  if (!isValidName(name)) throw new LedgerError('LEDGER_INVALID_NAME', 'invalid key name: must be non-empty without spaces or "+"');
  return { name, keyId: noteKeyId(name, publicKeyOf(secretKey)), sign: signWith };
}

/**
 * Signs a note text with Ed25519 and returns the signed note: the text, a
 * blank line and one signature line `— <name> <base64(keyId || signature)>`.
 * The signature covers the UTF-8 bytes of the text including its final newline.
 */
export function signNoteWith(body: string, signer: NoteSigner): string {
  if (!body.endsWith('\n')) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'note text must end with a newline');
  checkNoteText(body);
  const signature = signer.sign(utf8(body));
  return `${body}\n${SIG_PREFIX}${signer.name} ${toBase64(new Uint8Array([...signer.keyId, ...signature]))}\n`;
}

/** signNoteWith for a name and secret key (portable signer). */
export function signNote(body: string, name: string, secretKey: Uint8Array): string {
  return signNoteWith(body, noteSignerOf(name, secretKey));
}

/**
 * Verifies a signed note with one trusted key and returns its text, following
 * Go's note.Open: signatures from other keys are ignored (C2SP: they MUST be),
 * every signature line from this key must verify, and at least one must be
 * present. Any malformation throws a LedgerError (LEDGER_MALFORMED_NOTE,
 * LEDGER_BAD_SIGNATURE, LEDGER_NOT_SIGNED, ...) saying what is wrong.
 */
export function verifyNote(text: string, verifier: NoteVerifier): string {
  if (verifier.keyId.length !== 4 || verifier.publicKey.length !== 32) throw new RangeError('verifier needs a 4-byte key id and a 32-byte key');
  checkNoteText(text);
  // The last blank line separates the text (which may contain blank lines) from the signatures.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: no blank line before the signatures');
  const body = text.slice(0, split + 1);
  const sigBlock = text.slice(split + 2);
  if (sigBlock === '' || !sigBlock.endsWith('\n')) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: signature block must end with a newline');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new LedgerError('LEDGER_MALFORMED_NOTE', `malformed note: more than ${MAX_SIGNATURES} signatures`);
  const message = utf8(body);
  const wantId = toHex(verifier.keyId);
  let verified = 0;
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: signature line must start with an em dash and a space');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    let raw: Uint8Array;
    try {
      raw = fromBase64(space < 0 ? '' : rest.slice(space + 1));
    } catch {
      throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: signature is not base64');
    }
    if (!isValidName(name) || raw.length < 5) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: bad signature line');
    if (name !== verifier.name || toHex(raw.subarray(0, 4)) !== wantId) continue;
    if (!verify(raw.subarray(4), message, verifier.publicKey)) throw new LedgerError('LEDGER_BAD_SIGNATURE', `invalid signature for key ${name}+${wantId}`);
    verified++;
  }
  if (verified === 0) throw new LedgerError('LEDGER_NOT_SIGNED', `note is not signed by key ${verifier.name}+${wantId}`);
  return body;
}

/**
 * Opens a signed checkpoint: {@link verifyNote}, then the text parsed as a
 * tlog-checkpoint. When `expectedOrigin` is given the origin must match it;
 * it is separate from the key name because the two may differ (sum.golang.org
 * signs "go.sum database tree"). Throws a LedgerError saying what is wrong.
 */
export function openNote(text: string, verifier: NoteVerifier, expectedOrigin?: string): { body: string; checkpoint: ParsedCheckpoint } {
  const body = verifyNote(text, verifier);
  const checkpoint = parseCheckpointBody(body);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new LedgerError('LEDGER_ORIGIN_MISMATCH', `checkpoint origin "${checkpoint.origin}" is not the expected "${expectedOrigin}"`);
  }
  return { body, checkpoint };
}
