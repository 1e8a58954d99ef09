/**
 * The trust options shared by verify, report, monitor and receipt verify: the
 * pinned log key (--log-key KEY|@FILE), the witnesses' verifier keys (--witness,
 * repeatable) and how many of them must have cosigned (--quorum, default all
 * of them). Every command taking a key argument (also statement verify and the
 * witness) parses it here, so a malformed or unreadable key is a bad command
 * line (exit 2) everywhere.
 */
import fs from 'node:fs';
import { parseCosignerKey, type CosignerKey } from '../ledger/cosignature.js';
import { parseVerifierKey, type NoteVerifier } from '../ledger/checkpoint.js';
import { UsageError, type Options, type ParsedCommand } from './cli-args.js';

/** The option declarations, to spread into a command's options. */
export const TRUST_OPTIONS: Options = { 'log-key': { type: 'string' }, witness: { type: 'string', multiple: true }, quorum: { type: 'string' } };

/** A key given inline or as @file (verifier keys are pasted or kept in files). */
export function keyArgument(flag: string, arg: string): string {
  if (!arg.startsWith('@')) return arg.trim();
  try {
    return fs.readFileSync(arg.slice(1), 'utf8').trim();
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${arg.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A parsed verifier key and the text it was given as. */
export interface KeyOption<K> {
  text: string;
  key: K;
}

/** One key argument of `flag` (inline or @file) parsed with `parse`; UsageError naming the command and the option when unreadable or malformed. */
function parseKeyArgument<K>(command: string, flag: string, arg: string, parse: (text: string) => K): KeyOption<K> {
  let text: string;
  try {
    text = keyArgument(flag, arg);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
  try {
    return { text, key: parse(text) };
  } catch (e) {
    throw new UsageError(`${command}: ${flag} ${arg}: ${(e as Error).message}`);
  }
}

/**
 * A log verifier key as the argument of --log-key (inline or @file), parsed;
 * UsageError (exit 2) when the file cannot be read or the text is not a log
 * key, e.g. a witness's type 0x04 key. Every command taking --log-key parses it here.
 */
export function logKeyArgument(command: string, arg: string): KeyOption<NoteVerifier> {
  return parseKeyArgument(command, '--log-key', arg, parseVerifierKey);
}

/** The parsed log key of --log-key (or `fallback` text when the option is absent); UsageError when malformed. */
export function logKeyOption(p: ParsedCommand, fallback?: string): KeyOption<NoteVerifier> | undefined {
  if (typeof p.values['log-key'] === 'string') return logKeyArgument(p.command, p.values['log-key']);
  if (fallback === undefined) return undefined;
  try {
    return { text: fallback, key: parseVerifierKey(fallback) };
  } catch (e) {
    throw new UsageError(`${p.command}: log key ${fallback}: ${(e as Error).message}`);
  }
}

/** The parsed log key of a command that needs --log-key; UsageError when absent or malformed. */
export function requireLogKey(p: ParsedCommand): KeyOption<NoteVerifier> {
  const key = logKeyOption(p);
  if (!key) throw new UsageError(`${p.command}: --log-key is required`);
  return key;
}

/** The parsed log keys of a repeatable --log-key (the witness follows several logs); UsageError when none is given or one is malformed. */
export function logKeysOption(p: ParsedCommand): KeyOption<NoteVerifier>[] {
  const raw = (p.values['log-key'] as unknown as string[] | undefined) ?? [];
  if (raw.length === 0) throw new UsageError(`${p.command}: --log-key is required`);
  return raw.map((k) => logKeyArgument(p.command, k));
}

/** The witnesses of --witness and the --quorum (default: every witness given); UsageError when malformed or impossible. */
export function witnessOptions(p: ParsedCommand): { witnesses: CosignerKey[]; quorum: number } {
  const raw = (p.values.witness as unknown as string[] | undefined) ?? [];
  const witnesses = raw.map((w) => parseKeyArgument(p.command, '--witness', w, parseCosignerKey).key);
  const q = p.values.quorum;
  if (q === undefined) return { witnesses, quorum: witnesses.length };
  if (typeof q !== 'string' || !/^\d{1,3}$/.test(q)) throw new UsageError(`${p.command}: --quorum must be a number of witnesses`);
  if (Number(q) > witnesses.length) throw new UsageError(`${p.command}: --quorum ${q} needs at least ${q} --witness keys, got ${witnesses.length}`);
  return { witnesses, quorum: Number(q) };
}
