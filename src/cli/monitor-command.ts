/**
 * `tds monitor`: a party's own watch on the ledger. At each poll it reads its
 * entries from GET /v1/ledger/mine, verifies the checkpoint served with them
 * (log signature, witness quorum) and that it extends the checkpoint kept in
 * the state file (a split view or rewrite cannot pass both a witness quorum
 * and this check), checks every entry's bytes and inclusion proof, prints one
 * line per event on stdout, and keeps the full checkpoints as evidence. Any
 * inconsistency, bad proof or missing quorum exits 1 with both checkpoints
 * kept; so does a log refusing (4xx) to prove a checkpoint it signed. A log
 * that cannot be reached or fails (5xx) is an ordinary failure, no evidence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TdsApiError, type TdsClient } from '../client/tds-client.js';
import { verifyCosignedCheckpoint, type CosignerKey } from '../ledger/cosignature.js';
import { parseCheckpointBody, type NoteVerifier } from '../ledger/checkpoint.js';
import { splitNote } from '../ledger/note.js';
import { checkExtends, checkPartyEntry, describeEvent, InconsistentCheckpoints, type ProofRefused, type ProvenEntry } from '../ledger/monitor.js';
import { UsageError, requireOption, stringOption, type CliIo, type CommandSpec } from './cli-args.js';
import { TRUST_OPTIONS, logKeyOption, witnessOptions } from './trust-options.js';

/** What the monitor keeps between polls; `evidence` holds every pair of checkpoints that disagreed. */
interface MonitorState {
  service: string;
  participant: string;
  logKey: string;
  checkpoint?: string;
  nextStart: number;
  verifiedAt?: string;
  evidence: Array<{ at: string; problem: string; kept?: string; offered: string }>;
}

const PAGE = 1000;

function readState(file: string): MonitorState | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as MonitorState;
    if (typeof s.logKey !== 'string' || !Number.isSafeInteger(s.nextStart) || !Array.isArray(s.evidence)) throw new Error('missing fields');
    return s;
  } catch (e) {
    throw new UsageError(`monitor: state file ${file} is malformed (${(e as Error).message}); move it away to start over`);
  }
}

/** Atomic replace (temporary file, fsync, rename): an interrupted monitor never leaves half a state file. */
function writeState(file: string, s: MonitorState): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(s, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** A failure to report and exit 1 on; `offered` is kept as evidence with the checkpoint the state held. */
class MonitorFailure extends Error {
  constructor(
    message: string,
    readonly offered?: string,
  ) {
    super(message);
  }
}

/**
 * True when the log answered but refused the request (a 4xx problem such as
 * VALIDATION_FAILED "beyond the integrated tree size"): for a proof of a
 * checkpoint it signed, that is evidence. Not when it could not be reached or
 * failed (network, 5xx), nor when it refused the caller rather than the
 * request (401, 403) or asked it to come back later (408, 429).
 */
function isRefusal(e: unknown): e is TdsApiError {
  return e instanceof TdsApiError && e.status >= 400 && e.status < 500 && ![401, 403, 408, 429].includes(e.status);
}

/** The consistency proof from `from` to `to`, or the log's refusal to give one; other failures are thrown. */
async function consistencyProof(client: TdsClient, from: number, to: number): Promise<string[] | ProofRefused> {
  try {
    return (await client.getJson<{ proof: string[] }>('/v1/ledger/proofs/consistency', { from, to })).proof;
  } catch (e) {
    if (isRefusal(e)) return { refused: `${e.status} ${e.message}` };
    throw e;
  }
}

/** One poll: pages of the caller's entries until caught up. Mutates and saves `state` after each verified page. */
async function poll(client: TdsClient, state: MonitorState, file: string, trust: { logKey: NoteVerifier; witnesses: CosignerKey[]; quorum: number }, io: Pick<CliIo, 'out' | 'err'>): Promise<number> {
  let events = 0;
  for (;;) {
    const page = await client.getJson<{ treeSize: number; checkpoint: string; entries: ProvenEntry[]; nextStart?: number }>('/v1/ledger/mine', { start: state.nextStart, limit: PAGE });
    let offered;
    try {
      offered = verifyCosignedCheckpoint(page.checkpoint, trust.logKey, trust.witnesses, trust.quorum).checkpoint;
    } catch (e) {
      throw new MonitorFailure(`served checkpoint refused: ${(e as Error).message}`, page.checkpoint);
    }
    if (offered.size !== page.treeSize) throw new MonitorFailure(`the page says treeSize ${page.treeSize} but its checkpoint has size ${offered.size}`, page.checkpoint);
    if (state.checkpoint) {
      const kept = parseCheckpointBody(splitNote(state.checkpoint).body);
      const proof = kept.size > 0 && offered.size > kept.size ? await consistencyProof(client, kept.size, offered.size) : undefined;
      try {
        checkExtends(kept, offered, proof);
      } catch (e) {
        if (e instanceof InconsistentCheckpoints) throw new MonitorFailure(e.message, page.checkpoint);
        throw e;
      }
    }
    const lines: string[] = [];
    for (const e of page.entries) {
      if (e.index < state.nextStart) throw new MonitorFailure(`entry ${e.index} is before the requested start ${state.nextStart}`, page.checkpoint);
      try {
        lines.push(describeEvent(checkPartyEntry(e, offered, state.participant)));
      } catch (err) {
        throw new MonitorFailure((err as Error).message, page.checkpoint);
      }
    }
    for (const l of lines) io.out(l);
    events += lines.length;
    const last = page.entries.length > 0 ? page.entries[page.entries.length - 1].index + 1 : state.nextStart;
    state.checkpoint = page.checkpoint;
    state.nextStart = Math.max(last, page.entries.length === PAGE ? last : offered.size);
    state.verifiedAt = new Date().toISOString();
    writeState(file, state);
    if (page.entries.length < PAGE) return events;
  }
}

/** `tds monitor`. */
export const monitorCommand: CommandSpec = {
  name: 'monitor',
  synopsis: '--key FILE --state FILE [--log-key KEY|@FILE] [--witness VKEY|@FILE ...] [--quorum N] [--once] [--interval S]',
  summary: 'watch the ledger for events about you: verify checkpoints (quorum, consistency) and proofs, one line per event',
  options: { ...TRUST_OPTIONS, state: { type: 'string' }, once: { type: 'boolean' }, interval: { type: 'string' } },
  run: async (ctx) => {
    const { p, io } = ctx;
    const file = requireOption(p, 'state');
    const interval = stringOption(p, 'interval') ?? '60';
    if (!/^[1-9]\d{0,5}$/.test(interval)) throw new UsageError('monitor: --interval must be a number of seconds');
    const { witnesses, quorum } = witnessOptions(p);
    const client = await ctx.client();
    const me = client.credentials?.id;
    if (!me) throw new UsageError(`monitor: key file ${ctx.settings.keyFile} has no participant id`);
    let state = readState(file);
    // The log key: --log-key, else the one pinned in the state file, else (first run only) the service's, with a warning.
    let logKey = logKeyOption(p, state?.logKey);
    if (!logKey) {
      logKey = logKeyOption(p, (await client.getText('/v1/ledger/key')).trim())!;
      io.err(`warning: no --log-key: pinning the key the service announces (${logKey.text}); compare it out of band`);
    }
    if (state && state.logKey !== logKey.text) throw new UsageError(`monitor: --log-key differs from the key pinned in ${file}; move the state file away to start over`);
    state ??= { service: ctx.settings.serviceUrl, participant: me, logKey: logKey.text, nextStart: 0, evidence: [] };
    if (state.participant !== me) throw new UsageError(`monitor: ${file} belongs to participant ${state.participant}, not ${me}`);
    const trust = { logKey: logKey.key, witnesses, quorum };
    for (;;) {
      try {
        const n = await poll(client, state, file, trust, io);
        io.err(`checkpoint size ${Number(state.checkpoint?.split('\n')[1])} verified${witnesses.length ? ` with ${quorum} of ${witnesses.length} witness(es)` : ''}; ${n} new event(s)`);
      } catch (e) {
        if (!(e instanceof MonitorFailure)) {
          io.err(`tds: monitor: ${(e as Error).message}`);
          if (p.values.once) return 1;
        } else {
          state.evidence.push({ at: new Date().toISOString(), problem: e.message, kept: state.checkpoint, offered: e.offered ?? '' });
          writeState(file, state);
          io.err(`ALERT: ${e.message}`);
          io.err(`both checkpoints are kept in ${file} (evidence)`);
          return 1;
        }
      }
      if (p.values.once) return 0;
      await new Promise((r) => setTimeout(r, Number(interval) * 1000));
    }
  },
};
