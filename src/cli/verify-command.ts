/**
 * `tds verify` and `tds ledger export`: the auditor's side of the ledger. The
 * verifier trusts only the log key the auditor pinned and the checkpoint it
 * verified last time; everything the service serves is recomputed with the
 * pure ledger modules (never the services), online or from an exported bundle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { signRequestToken, type Signer } from '../client/request-token.js';
import type { CliIo } from './cli-args.js';
import { verifyLog, type ServedEntry, type VerifiedCheckpoint, type VerifyLogResult } from '../ledger/verify-log.js';

/** Where these commands write (one call per line): only the output half of the dispatcher's CliIo, so tests pass two functions. */
export type VerifyIo = Pick<CliIo, 'out' | 'err'>;

/** Exit codes: everything held, verification (or download) failed, the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const PAGE = 1000;
const DEFAULT_STATE = './.tds-verify-state.json';
const VERIFY_USAGE =
  'usage: tds verify --service <url> --key <auditor credentials.json> --log-key <key|@file> [--state <file>] [--audience <aud>]\n' +
  '       tds verify --bundle <dir> --log-key <key|@file> [--state <file>]';
const EXPORT_USAGE = 'usage: tds ledger export --service <url> --key <credentials.json> --out <dir> [--audience <aud>]';

class UsageError extends Error {}

function parseArgs(argv: string[], allowed: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !allowed.includes(m[1])) throw new UsageError(`unknown argument ${argv[i]}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${m[1]} needs a value`);
    out[m[1]] = value;
  }
  return out;
}

function need(opts: Record<string, string>, name: string): string {
  const v = opts[name];
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** The auditor's credentials file, shaped like operator.json: {id, kid, privateJwk}. */
function loadSigner(file: string): Signer {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { id?: unknown; kid?: unknown; privateJwk?: Signer['privateJwk'] };
  if (typeof doc.id !== 'string' || typeof doc.kid !== 'string' || typeof doc.privateJwk?.d !== 'string') throw new UsageError(`${file} must hold {id, kid, privateJwk}`);
  return { iss: doc.id, kid: doc.kid, privateJwk: doc.privateJwk };
}

/** The pinned verifier key, given inline or as @file. */
function readLogKey(arg: string): string {
  return (arg.startsWith('@') ? fs.readFileSync(arg.slice(1), 'utf8') : arg).trim();
}

/** A tiny client of the auditor API: each request carries a fresh token bound to its method and path. */
function ledgerClient(service: string, signer: Signer, audience: string) {
  const base = new URL(service.endsWith('/') ? service : `${service}/`);
  const get = async (rel: string, query: Record<string, number> = {}): Promise<Response> => {
    const url = new URL(rel, base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const token = await signRequestToken(signer, 'GET', url.pathname, { audience });
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      const body = await res.text();
      let detail = body.slice(0, 300);
      try {
        const p = JSON.parse(body) as { code?: string; detail?: string };
        detail = `${p.code ?? ''} ${p.detail ?? ''}`.trim();
      } catch {
        // not a problem document: show the start of the body
      }
      throw new Error(`GET ${url.pathname}: HTTP ${res.status} ${detail}`);
    }
    return res;
  };
  return {
    text: async (rel: string) => (await get(rel)).text(),
    // JSON.parse of the text, not res.json(): objects from fetch's own realm would not count as plain JSON data for canonicalize.
    json: async <T>(rel: string, query?: Record<string, number>) => JSON.parse(await (await get(rel, query)).text()) as T,
  };
}

type Client = ReturnType<typeof ledgerClient>;

/**
 * Downloads every entry from index 0 up to at least `atLeast` (the signed
 * size) and the tree size seen on the first page, following served indices
 * so a gap (a deleted row) is kept for the verifier to name, not papered over.
 */
async function downloadEntries(client: Client, atLeast: number, io: VerifyIo): Promise<ServedEntry[]> {
  const entries: ServedEntry[] = [];
  let start = 0;
  let target = atLeast;
  let shown = -1;
  for (;;) {
    const page = await client.json<{ treeSize: number; entries: ServedEntry[] }>('v1/ledger/entries', { start, limit: PAGE });
    if (start === 0) target = Math.max(target, page.treeSize);
    if (page.entries.length === 0) break;
    entries.push(...page.entries);
    const last = page.entries[page.entries.length - 1].index;
    // A misbehaving server must not make us loop: always move forward.
    start = Number.isSafeInteger(last) && last >= start ? last + 1 : start + page.entries.length;
    const pct = target === 0 ? 100 : Math.min(100, Math.floor((start / target) * 100));
    if (Math.floor(pct / 10) !== Math.floor(shown / 10)) {
      io.err(`downloading entries: ${pct}% (${Math.min(start, target)}/${target})`);
      shown = pct;
    }
    if (start >= target) break;
  }
  return entries;
}

function readState(file: string): VerifiedCheckpoint | undefined {
  if (!fs.existsSync(file)) return undefined;
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VerifiedCheckpoint>;
  if (!Number.isSafeInteger(s.size) || typeof s.rootHash !== 'string') throw new Error(`state file ${file} is malformed (want {size, rootHash})`);
  return { size: s.size as number, rootHash: s.rootHash };
}

function writeState(file: string, result: { size: number; rootHash: string }): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ size: result.size, rootHash: result.rootHash, verifiedAt: new Date().toISOString() }, null, 2)}\n`);
  // Rename so an interrupted run never leaves a half-written state behind.
  fs.renameSync(tmp, file);
}

function report(result: VerifyLogResult, io: VerifyIo): number {
  if (result.ok) {
    io.out(`OK: ${result.entries} entries verified; signed checkpoint size ${result.size}, root ${result.rootHash}`);
    return EXIT_OK;
  }
  io.out(`FAILED: ${result.problem}`);
  io.out(`first bad index: ${result.firstBadIndex ?? 'unknown (the entries agree with each other but not with the signed checkpoint)'}`);
  return EXIT_FAILED;
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

/**
 * `tds verify` (argv: the arguments after `verify`). Online: downloads the
 * checkpoint and every entry, verifies them against the pinned log key, checks
 * consistency with the checkpoint in the state file, and saves the new one on
 * success. With --bundle: the same checks offline on an export (the state file
 * is used only when --state is given). Resolves to the exit code.
 */
export async function runVerify(argv: string[], io: VerifyIo): Promise<number> {
  let opts: Record<string, string>;
  let logKey: string;
  let signer: Signer | undefined;
  try {
    opts = parseArgs(argv, ['service', 'key', 'log-key', 'state', 'bundle', 'audience']);
    logKey = readLogKey(need(opts, 'log-key'));
    if (opts.bundle === undefined) {
      need(opts, 'service');
      signer = loadSigner(need(opts, 'key'));
    } else if (opts.service !== undefined) {
      throw new UsageError('--bundle verifies offline: do not combine it with --service');
    }
  } catch (e) {
    io.err(`${(e as Error).message}\n${VERIFY_USAGE}`);
    return EXIT_USAGE;
  }
  const stateFile = opts.bundle !== undefined ? opts.state : (opts.state ?? DEFAULT_STATE);
  try {
    const previous = stateFile === undefined ? undefined : readState(stateFile);
    let input: Parameters<typeof verifyLog>[0];
    if (opts.bundle !== undefined) {
      input = { ...readBundle(opts.bundle), verifierKey: logKey, previous };
    } else {
      const client = ledgerClient(opts.service, signer as Signer, opts.audience ?? 'tds');
      const checkpointNote = await client.text('v1/ledger/checkpoint');
      const size = Number(checkpointNote.split('\n')[1]);
      const entries = await downloadEntries(client, Number.isSafeInteger(size) ? size : 0, io);
      let consistencyProof: string[] | undefined;
      if (previous && previous.size > 0 && previous.size <= size) {
        consistencyProof = (await client.json<{ proof: string[] }>('v1/ledger/proofs/consistency', { from: previous.size, to: size })).proof;
      }
      input = { entries, checkpointNote, verifierKey: logKey, previous, consistencyProof };
    }
    const result = verifyLog(input);
    if (result.ok && stateFile !== undefined) writeState(stateFile, result);
    return report(result, io);
  } catch (e) {
    io.out(`FAILED: could not verify: ${(e as Error).message}`);
    return EXIT_FAILED;
  }
}

/**
 * `tds ledger export` (argv: the arguments after `export`): writes
 * entries.ndjson (one served entry per line), checkpoint.txt (the signed note,
 * byte for byte) and log-key.txt (the key the service announces; auditors
 * verify with the key they pinned, not this one) into --out.
 */
export async function runLedgerExport(argv: string[], io: VerifyIo): Promise<number> {
  let opts: Record<string, string>;
  let signer: Signer;
  try {
    opts = parseArgs(argv, ['service', 'key', 'out', 'audience']);
    need(opts, 'service');
    need(opts, 'out');
    signer = loadSigner(need(opts, 'key'));
  } catch (e) {
    io.err(`${(e as Error).message}\n${EXPORT_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const client = ledgerClient(opts.service, signer, opts.audience ?? 'tds');
    const checkpointNote = await client.text('v1/ledger/checkpoint');
    const logKey = await client.text('v1/ledger/key');
    const size = Number(checkpointNote.split('\n')[1]);
    const entries = await downloadEntries(client, Number.isSafeInteger(size) ? size : 0, io);
    fs.mkdirSync(opts.out, { recursive: true });
    fs.writeFileSync(path.join(opts.out, 'entries.ndjson'), entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    fs.writeFileSync(path.join(opts.out, 'checkpoint.txt'), checkpointNote);
    fs.writeFileSync(path.join(opts.out, 'log-key.txt'), `${logKey.trim()}\n`);
    io.out(`exported ${entries.length} entries and the checkpoint of size ${size} to ${opts.out}`);
    return EXIT_OK;
  } catch (e) {
    io.out(`FAILED: could not export: ${(e as Error).message}`);
    return EXIT_FAILED;
  }
}
