/**
 * Signed-note framing (C2SP signed-note v1.0.0) without verification: the
 * split of a note into its text and signature lines, and adding signature
 * lines (cosignatures) to a note. Verification lives in checkpoint.ts
 * (Ed25519, type 0x01) and cosignature.ts (type 0x04). Pure.
 */
import { LedgerError } from './ledger-error.js';

const SIG_PREFIX = '\u2014 ';

/** A note split at its last blank line: the text (with its final newline) and the signature lines (without newlines). */
export interface SplitNote {
  body: string;
  signatures: string[];
}

/** Splits a signed note; throws when it has no signature block or a line is not a signature line. */
export function splitNote(note: string): SplitNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: no blank line before the signatures');
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: signature block must end with a newline');
  const signatures = block.slice(0, -1).split('\n');
  if (signatures.some((l) => !l.startsWith(SIG_PREFIX))) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'malformed note: signature line must start with an em dash and a space');
  return { body: note.slice(0, split + 1), signatures };
}

/** The note with extra signature lines appended (each `— name sig`, newline-terminated or not); lines already present are not repeated. */
export function addSignatures(note: string, lines: string[]): string {
  const { signatures } = splitNote(note);
  const have = new Set(signatures);
  let out = note;
  for (const raw of lines) {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (!line.startsWith(SIG_PREFIX) || line.includes('\n')) throw new LedgerError('LEDGER_MALFORMED_NOTE', 'not a signature line');
    if (have.has(line)) continue;
    have.add(line);
    out += `${line}\n`;
  }
  return out;
}
