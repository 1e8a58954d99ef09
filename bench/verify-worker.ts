/**
 * Figure 4, run as its own process (so it can have a large heap and be
 * profiled with --cpu-prof on its own): loads the first N ledger entries the
 * way `tds verify --bundle` reads them (one served JSON object per line,
 * parsed), times verifyLog over them against the checkpoint signed at N, and
 * times a bare loop making the same SHA-256 calls with node:crypto on the
 * already encoded bytes: leaf hash per entry, chain hash per entry, and the
 * n − 1 interior node hashes of the tree. Prints one JSON line on stdout.
 *
 * Environment: BENCH_DB_URL, BENCH_VERIFY_SIZE, BENCH_VERIFIER_KEY, and
 * optionally BENCH_PROFILE_DIR: a V8 CPU profile of the verifyLog call alone
 * (not the loading) is written there.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { connectClient } from './database.js';
import { verifyLog, type ServedEntry } from '../src/ledger/verify-log.js';
import { openNote, parseVerifierKey } from '../src/ledger/checkpoint.js';
import { nowMs, round } from './stats.js';
import { bareLoop, bareLoopOneShot } from './bare-sha.js';

const PAGE = 50_000;

/** The entries as an auditor holds them, and the canonical bytes the bare loop hashes. */
interface Loaded {
  entries: ServedEntry[];
  bytes: Buffer;
  offsets: Uint32Array;
}

async function load(url: string, size: number): Promise<Loaded & { note: string; loadMs: number; parseMs: number }> {
  const c = await connectClient(url);
  const t0 = nowMs();
  let parseMs = 0;
  const entries: ServedEntry[] = new Array(size);
  const texts: Buffer[] = [];
  const offsets = new Uint32Array(size + 1);
  let total = 0;
  try {
    const cp = await c.query<{ note: string }>('SELECT note FROM ledger_checkpoints WHERE tree_size = $1', [size]);
    if (cp.rows.length !== 1) throw new Error(`no checkpoint at size ${size}`);
    for (let start = 0; start < size; start += PAGE) {
      const res = await c.query<{ pos: string; entry: string; leaf_hash: Buffer; chain_hash: Buffer }>(
        'SELECT idx::text AS pos, entry, leaf_hash, chain_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
        [start, Math.min(size, start + PAGE)],
      );
      const t1 = nowMs();
      for (const r of res.rows) {
        const i = Number(r.pos);
        // What the API serves (res.json of the entry view), then what readBundle does with each line.
        const line = JSON.stringify({ index: i, entry: JSON.parse(r.entry), leafHash: r.leaf_hash.toString('base64'), chainHash: r.chain_hash.toString('base64') });
        entries[i] = JSON.parse(line) as ServedEntry;
        const b = Buffer.from(r.entry, 'utf8');
        texts.push(b);
        total += b.length;
        offsets[i + 1] = total;
      }
      parseMs += nowMs() - t1;
    }
    return { entries, bytes: Buffer.concat(texts, total), offsets, note: cp.rows[0].note, loadMs: nowMs() - t0, parseMs };
  } finally {
    await c.end();
  }
}

/** Runs fn under the V8 profiler when dir is set, writing verifyLog.cpuprofile there. */
async function profiled<T>(dir: string | undefined, fn: () => T): Promise<T> {
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'verifyLog.cpuprofile'), JSON.stringify(profile));
    session.disconnect();
  }
}

async function main(): Promise<void> {
  const url = process.env.BENCH_DB_URL;
  const size = Number(process.env.BENCH_VERIFY_SIZE);
  const verifierKey = process.env.BENCH_VERIFIER_KEY;
  if (!url || !Number.isSafeInteger(size) || size < 1 || !verifierKey) throw new Error('BENCH_DB_URL, BENCH_VERIFY_SIZE and BENCH_VERIFIER_KEY are required');
  const loaded = await load(url, size);
  const signedRoot = openNote(loaded.note, parseVerifierKey(verifierKey)).checkpoint.rootHash;

  // A short unrecorded pass of each so both are measured with optimised code.
  const warm = Math.min(size, 20_000);
  bareLoop(loaded.bytes, loaded.offsets, warm);

  const tb = nowMs();
  const bare = bareLoop(loaded.bytes, loaded.offsets, size);
  const bareMs = nowMs() - tb;

  const profileDir = process.env.BENCH_PROFILE_DIR || undefined;
  const tv = nowMs();
  const result = await profiled(profileDir, () => verifyLog({ entries: loaded.entries, checkpointNote: loaded.note, verifierKey }));
  const verifyMs = nowMs() - tv;

  const tb2 = nowMs();
  bareLoop(loaded.bytes, loaded.offsets, size);
  const bareMs2 = nowMs() - tb2;

  const bestBare = Math.min(bareMs, bareMs2);
  // The stricter baseline: the same hashes with one-shot hash() and reused buffers, best of two.
  bareLoopOneShot(loaded.bytes, loaded.offsets, warm);
  const oneShotMs: number[] = [];
  let oneShotRoot: Buffer | null = null;
  for (let k = 0; k < 2; k++) {
    const t = nowMs();
    oneShotRoot = bareLoopOneShot(loaded.bytes, loaded.offsets, size).root;
    oneShotMs.push(nowMs() - t);
  }
  const bestOneShot = Math.min(...oneShotMs);
  process.stdout.write(`${JSON.stringify({
    entries: size,
    ok: result.ok,
    problem: result.ok ? null : result.problem,
    bareRootMatches: Buffer.compare(bare.root, Buffer.from(signedRoot)) === 0,
    interiorHashes: bare.interior,
    verifyMs: round(verifyMs, 1),
    bareMs: round(bestBare, 1),
    ratio: round(verifyMs / bestBare, 2),
    bareOneShotMs: round(bestOneShot, 1),
    ratioOneShot: round(verifyMs / bestOneShot, 2),
    bareOneShotRootMatches: oneShotRoot !== null && Buffer.compare(oneShotRoot, Buffer.from(signedRoot)) === 0,
    profiled: profileDir !== undefined,
    loadMs: round(loaded.loadMs, 0),
    parseMs: round(loaded.parseMs, 0),
    canonicalMb: round(loaded.bytes.length / 1e6, 1),
    heapUsedMb: round(process.memoryUsage().heapUsed / 1e6, 0),
  })}\n`);
}

main().catch((e: unknown) => {
  console.error('verify worker failed:', e);
  process.exit(1);
});
