/**
 * `tds verify` and `tds ledger export`: the auditor's side of the ledger. The
 * verifier trusts only the log key the auditor pinned and the checkpoint it
 * verified last time; everything the service serves is recomputed with the
 * pure ledger modules (never the services), online or from an exported bundle.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TdsClient } from '../client/tds-client.js';
import { UsageError, requireOption, stringOption, type CliIo, type CommandContext, type CommandSpec } from './cli-args.js';
import type { ServedEntry, VerifiedCheckpoint, VerifyLogInput, VerifyLogResult } from '../ledger/verify-log.js';
import { verifyLogLocating, type InclusionProofSource } from '../ledger/locate-bad-entry.js';
import { parseVerifierKey } from '../ledger/checkpoint.js';
import { verifyCosignedCheckpoint, type CosignerKey } from '../ledger/cosignature.js';
import { TRUST_OPTIONS, requireLogKey, witnessOptions } from './trust-options.js';
import { progressReporter } from './progress.js';

/** Where these commands write: the output half of the CLI's io, plus progress when on a terminal. */
export type VerifyIo = Pick<CliIo, 'out' | 'err' | 'progress'>;

/** Exit codes: everything held, verification (or download) failed, the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const PAGE = 1000;
const DEFAULT_STATE = './.tds-verify-state.json';

/** The signed client, a missing or bad key file being a usage error (nothing was asked of the service yet). */
async function auditorClient(ctx: CommandContext): Promise<TdsClient> {
  try {
    const client = await ctx.client();
    if (!client.credentials?.id) throw new Error(`key file ${ctx.settings.keyFile} has no participant id`);
    return client;
  } catch (e) {
    throw new UsageError(`${ctx.p.command}: ${(e as Error).message}`);
  }
}

/**
 * Downloads every entry from index 0 up to at least `atLeast` (the signed
 * size) and the tree size seen on the first page, following served indices
 * so a gap (a deleted row) is kept for the verifier to name, not papered over.
 */
async function downloadEntries(client: TdsClient, atLeast: number, io: VerifyIo): Promise<ServedEntry[]> {
  const entries: ServedEntry[] = [];
  let start = 0;
  let target = atLeast;
  let shown = -1;
  for (;;) {
    const page = await client.getJson<{ treeSize: number; entries: ServedEntry[] }>('/v1/ledger/entries', { start, limit: PAGE });
    if (start === 0) target = Math.max(target, page.treeSize);
    if (page.entries.length === 0) break;
    entries.push(...page.entries);
    const last = page.entries[page.entries.length - 1].index;
    // A misbehaving server must not make us loop: always move forward.
    start = Number.isSafeInteger(last) && last >= start ? last + 1 : start + page.entries.length;
    const pct = target === 0 ? 100 : Math.min(100, Math.floor((start / target) * 100));
    if (pct !== shown) {
      io.progress?.(`downloading entries: ${pct}% (${Math.min(start, target)}/${target})`);
      shown = pct;
    }
    if (start >= target) break;
  }
  return entries;
}

function readState(file: string): VerifiedCheckpoint | undefined {
  if (!fs.existsSync(file)) return undefined;
  let s: Partial<VerifiedCheckpoint>;
  try {
    s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VerifiedCheckpoint>;
  } catch (e) {
    throw new Error(`state file ${file} (--state) is not JSON: ${(e as Error).message}; move it away to start over`, { cause: e });
  }
  if (!Number.isSafeInteger(s?.size) || typeof s?.rootHash !== 'string') throw new Error(`state file ${file} (--state) is malformed (want {size, rootHash}); move it away to start over`);
  return { size: s.size as number, rootHash: s.rootHash };
}

function writeState(file: string, result: { size: number; rootHash: string }): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ size: result.size, rootHash: result.rootHash, verifiedAt: new Date().toISOString() }, null, 2)}\n`);
  // Rename so an interrupted run never leaves a half-written state behind.
  fs.renameSync(tmp, file);
}

function report(result: VerifyLogResult, previous: VerifiedCheckpoint | undefined, recording: boolean, io: VerifyIo): number {
  if (result.ok) {
    io.out(`OK: ${result.entries} entries verified; signed checkpoint size ${result.size}, root ${result.rootHash}`);
    io.out('  checked: every entry re-encoded and hashed, the hash chain, the Merkle root against the checkpoint, the checkpoint signature with the pinned log key');
    io.out(previous ? `  checked: consistency with the checkpoint of size ${previous.size} verified before (no history rewritten)` : recording ? '  no earlier checkpoint to compare with: this run starts the record (--state)' : '  not compared with an earlier checkpoint: nothing is recorded without --state');
    return EXIT_OK;
  }
  io.out(`FAILED: ${result.problem}`);
  // A bad key or note is not about any entry; only name the location when the entries were compared.
  if (result.firstBadIndex !== null) io.out(`first bad index: ${result.firstBadIndex}`);
  else if (!/^(verifier key|checkpoint|previous checkpoint):/.test(result.problem)) io.out('first bad index: unknown (the entries agree with each other but not with the signed checkpoint)');
  return EXIT_FAILED;
}

/** The witness quorum on the verified checkpoint: the line saying who cosigned, or null after printing FAILED naming who is missing. */
function checkQuorum(note: string, logKey: string, witnesses: CosignerKey[], quorum: number, io: VerifyIo): string | null {
  try {
    const { cosigned } = verifyCosignedCheckpoint(note, parseVerifierKey(logKey), witnesses, quorum);
    return `  checked: ${cosigned.length} of ${witnesses.length} witness cosignature(s) (quorum ${quorum}): ${cosigned.map((c) => c.name).join(', ') || 'none'}`;
  } catch (e) {
    io.out(`FAILED: witness quorum: ${(e as Error).message}`);
    return null;
  }
}

function readBundle(dir: string): { entries: ServedEntry[]; checkpointNote: string } {
  const lines = fs.readFileSync(path.join(dir, 'entries.ndjson'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const entries = lines.map((l, i) => {
    try {
      return JSON.parse(l) as ServedEntry;
    } catch {
      throw new Error(`entries.ndjson line ${i + 1} is not JSON`);
    }
  });
  return { entries, checkpointNote: fs.readFileSync(path.join(dir, 'checkpoint.txt'), 'utf8') };
}

/** A verified ledger: the exit code of the verification (its lines printed), and on success the entries the signed checkpoint covers. */
export interface VerifiedLedger {
  code: number;
  entries: ServedEntry[];
  size: number;
}

/** The options `tds verify` and `tds report` share. */
export const VERIFY_OPTIONS = { ...TRUST_OPTIONS, state: { type: 'string' }, bundle: { type: 'string' } } as const;

/**
 * What `tds verify` does, for any command that must trust the ledger first.
 * Online: downloads the checkpoint and every entry, verifies them against the
 * pinned log key (and witness quorum), checks consistency with the checkpoint
 * in the state file, and saves the new one on success. With --bundle: the
 * same checks offline on an export (the state file is used only when --state
 * is given). Prints what it checked; entries only when everything held.
 */
export async function verifyLedger(ctx: CommandContext): Promise<VerifiedLedger> {
  const { p, io } = ctx;
  const logKey = requireLogKey(p).text;
  const { witnesses, quorum } = witnessOptions(p);
  const bundle = stringOption(p, 'bundle');
  if (bundle !== undefined && p.values.service !== undefined) throw new UsageError(`${p.command}: --bundle verifies offline: do not combine it with --service`);
  const client = bundle === undefined ? await auditorClient(ctx) : undefined;
  const stateFile = bundle !== undefined ? stringOption(p, 'state') : (stringOption(p, 'state') ?? DEFAULT_STATE);
  const failed = { code: EXIT_FAILED, entries: [], size: 0 };
  let previous: VerifiedCheckpoint | undefined;
  try {
    previous = stateFile === undefined ? undefined : readState(stateFile);
    let input: VerifyLogInput;
    let proofs: InclusionProofSource | undefined;
    if (!client) {
      input = { ...readBundle(bundle!), verifierKey: logKey, previous };
    } else {
      const checkpointNote = await client.getText('/v1/ledger/checkpoint');
      const size = Number(checkpointNote.split('\n')[1]);
      const entries = await downloadEntries(client, Number.isSafeInteger(size) ? size : 0, io);
      let consistencyProof: string[] | undefined;
      if (previous && previous.size > 0 && previous.size <= size) {
        consistencyProof = (await client.getJson<{ proof: string[] }>('/v1/ledger/proofs/consistency', { from: previous.size, to: size })).proof;
      }
      input = { entries, checkpointNote, verifierKey: logKey, previous, consistencyProof };
      // Only asked for when the entries disagree with a checkpoint: names an entry altered with its hashes recomputed.
      proofs = (index, treeSize) => client.getJson<{ leafHash: string; proof: string[] }>('/v1/ledger/proofs/inclusion', { index, treeSize });
    }
    // On a terminal: `verifying entries: 42% (420000/1000000)` while every entry is re-encoded and hashed.
    const progress = progressReporter(io.progress, { label: 'verifying entries', total: input.entries.length, unit: 'items' });
    progress(0);
    const result = await verifyLogLocating({ ...input, onProgress: (checked) => progress(checked) }, proofs);
    if (result.ok) progress(input.entries.length);
    const cosigned = result.ok && witnesses.length > 0 ? checkQuorum(input.checkpointNote, logKey, witnesses, quorum, io) : '';
    if (cosigned === null) return failed;
    if (result.ok && stateFile !== undefined) writeState(stateFile, result);
    const code = report(result, previous, stateFile !== undefined, io);
    if (cosigned) io.out(cosigned);
    // Only what the signed checkpoint covers is proven; entries served beyond it are not used.
    return result.ok ? { code, entries: input.entries.slice(0, result.size), size: result.size } : { ...failed, code };
  } catch (e) {
    io.out(`FAILED: could not verify: ${(e as Error).message}`);
    return failed;
  }
}

/** `tds verify`: verifyLedger, resolving to its exit code. */
export const verify: CommandSpec = {
  name: 'verify',
  synopsis: '--log-key KEY|@FILE [--witness VKEY|@FILE ...] [--quorum N] [--state FILE] | --bundle DIR --log-key KEY|@FILE [--witness ...] [--quorum N] [--state FILE]',
  summary: 'auditor: verify the ledger online (chain, tree, signed checkpoint, witness quorum, consistency), or an export offline',
  options: VERIFY_OPTIONS,
  run: async (ctx) => (await verifyLedger(ctx)).code,
};

/**
 * `tds ledger export`: writes entries.ndjson (one served entry per line) and
 * checkpoint.txt (the signed note, byte for byte) into --out. It does not
 * write the log key: an auditor verifies with the key it pinned out of band,
 * never with one fetched from the service being audited.
 */
export const ledgerExport: CommandSpec = {
  name: 'ledger export',
  synopsis: '--out DIR',
  summary: 'auditor: export entries and the signed checkpoint (verify it with your pinned log key)',
  options: { out: { type: 'string' } },
  run: async (ctx) => {
    const { p, io } = ctx;
    const out = requireOption(p, 'out');
    const client = await auditorClient(ctx);
    try {
      const checkpointNote = await client.getText('/v1/ledger/checkpoint');
      const size = Number(checkpointNote.split('\n')[1]);
      const entries = await downloadEntries(client, Number.isSafeInteger(size) ? size : 0, io);
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, 'entries.ndjson'), entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      fs.writeFileSync(path.join(out, 'checkpoint.txt'), checkpointNote);
      io.out(`exported ${entries.length} entries and the checkpoint of size ${size} to ${out}`);
      return EXIT_OK;
    } catch (e) {
      io.out(`FAILED: could not export: ${(e as Error).message}`);
      return EXIT_FAILED;
    }
  },
};

/** `tds ledger key`: the log key the service announces, with the warning that it must be compared out of band. */
export const ledgerKey: CommandSpec = {
  name: 'ledger key',
  synopsis: '',
  summary: 'print the service\'s log (checkpoint) key; compare it out of band before pinning it',
  run: async (ctx) => {
    const key = (await (await ctx.client()).getText('/v1/ledger/key')).trim();
    ctx.io.out(key);
    ctx.io.err('warning: this key comes from the service you are about to audit; compare it with the one the operator published out of band (letter, website, phone) before passing it to --log-key');
    return EXIT_OK;
  },
};
