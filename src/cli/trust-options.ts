/**
 * The trust options shared by verify, monitor and receipt verify: the pinned
 * log key (--log-key KEY|@FILE), the witnesses' verifier keys (--witness, repeatable)
 * and how many of them must have cosigned (--quorum, default all of them).
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

/** The parsed log key of --log-key (or `fallback` text when the option is absent); UsageError when malformed. */
export function logKeyOption(p: ParsedCommand, fallback?: string): { text: string; key: NoteVerifier } | undefined {
  const raw = typeof p.values['log-key'] === 'string' ? keyArgument('--log-key', p.values['log-key'] as string) : fallback;
  if (raw === undefined) return undefined;
  try {
    return { text: raw, key: parseVerifierKey(raw) };
  } catch (e) {
    throw new UsageError(`${p.command}: --log-key: ${(e as Error).message}`);
  }
}

/** The witnesses of --witness and the --quorum (default: every witness given); UsageError when malformed or impossible. */
export function witnessOptions(p: ParsedCommand): { witnesses: CosignerKey[]; quorum: number } {
  const raw = (p.values.witness as unknown as string[] | undefined) ?? [];
  const witnesses = raw.map((w) => {
    try {
      return parseCosignerKey(keyArgument('--witness', w));
    } catch (e) {
      throw new UsageError(`${p.command}: --witness ${w}: ${(e as Error).message}`);
    }
  });
  const q = p.values.quorum;
  if (q === undefined) return { witnesses, quorum: witnesses.length };
  if (typeof q !== 'string' || !/^\d{1,3}$/.test(q)) throw new UsageError(`${p.command}: --quorum must be a number of witnesses`);
  if (Number(q) > witnesses.length) throw new UsageError(`${p.command}: --quorum ${q} needs at least ${q} --witness keys, got ${witnesses.length}`);
  return { witnesses, quorum: Number(q) };
}
