/**
 * `node dist/bench/verify-micro.js [entries] [rounds]`: the offline-verify
 * ratio without a database, for iterating on verifyLog. Builds `entries`
 * job.authorized-shaped entries in memory (canonical text, served views parsed
 * back as `tds verify --bundle` holds them), signs a checkpoint over them and
 * times verifyLog against the same bare SHA-256 loop as figure 4
 * (bench/verify-worker.ts), alternating, `rounds` times; prints the medians.
 * With VERIFY_MICRO_PROFILE=<dir>, a V8 CPU profile of the verifyLog calls
 * alone is written there (verifyLog.cpuprofile).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { generateKeyPair, publicKeyOf } from '../src/crypto/ed25519.js';
import { formatCheckpointBody, signNote, verifierKey } from '../src/ledger/checkpoint.js';
import { canonicalEntryText, leafHashOfText, ENTRY_VERSION, type LedgerEntry } from '../src/ledger/ledger-entry.js';
import { chainHash, ZERO_HASH } from '../src/ledger/chain.js';
import { CompactRange } from '../src/ledger/merkle.js';
import { verifyLog, type ServedEntry } from '../src/ledger/verify-log.js';
import { bareLoop, bareLoopOneShot } from './bare-sha.js';
import { median, nowMs, round } from './stats.js';

const n = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);
const origin = 'bench.tds.local/ledger';
const texts: Buffer[] = [];
const offsets = new Uint32Array(n + 1);
const entries: ServedEntry[] = new Array(n);
const tree = new CompactRange();
let chain = ZERO_HASH;
let total = 0;
for (let i = 0; i < n; i++) {
  const e: LedgerEntry = {
    v: ENTRY_VERSION, index: i, kind: 'job.authorized', at: new Date(1_780_000_000_000 + i).toISOString(), actor: randomUUID(),
    subjects: { job: randomUUID(), contract: randomUUID(), dataset: randomUUID(), provider: randomUUID(), consumer: randomUUID() },
    data: { purpose: 'DUO:0000006', sha256: 'a'.repeat(64), invocation: i + 1, remaining: 1e9 - i, releaseJti: randomUUID(), releaseExpiresAt: new Date().toISOString(), reciprocity: [] },
  };
  const text = canonicalEntryText(e);
  const leaf = leafHashOfText(text);
  chain = chainHash(chain, leaf);
  tree.append(leaf);
  const line = JSON.stringify({ index: i, entry: JSON.parse(text), leafHash: Buffer.from(leaf).toString('base64'), chainHash: Buffer.from(chain).toString('base64') });
  entries[i] = JSON.parse(line) as ServedEntry;
  const b = Buffer.from(text, 'utf8');
  texts.push(b);
  total += b.length;
  offsets[i + 1] = total;
}
const bytes = Buffer.concat(texts, total);
const key = generateKeyPair().secretKey;
const note = signNote(formatCheckpointBody({ origin, size: n, rootHash: tree.root() }), origin, key);
const vkey = verifierKey(origin, publicKeyOf(key));

bareLoop(bytes, offsets, Math.min(n, 20_000));
bareLoopOneShot(bytes, offsets, Math.min(n, 20_000));
verifyLog({ entries: entries.slice(0, Math.min(n, 20_000)), checkpointNote: note, verifierKey: vkey });
const profileDir = process.env.VERIFY_MICRO_PROFILE || undefined;
const session = profileDir ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
}
const bare: number[] = [];
const bare1: number[] = [];
const ver: number[] = [];
for (let r = 0; r < rounds; r++) {
  let t = nowMs();
  bareLoop(bytes, offsets, n);
  bare.push(nowMs() - t);
  t = nowMs();
  const one = bareLoopOneShot(bytes, offsets, n);
  bare1.push(nowMs() - t);
  if (Buffer.compare(one.root, Buffer.from(tree.root())) !== 0) throw new Error('one-shot bare loop: wrong root');
  await session?.post('Profiler.start');
  t = nowMs();
  const res = verifyLog({ entries, checkpointNote: note, verifierKey: vkey });
  ver.push(nowMs() - t);
  if (session && profileDir) {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(profileDir, { recursive: true });
    fs.writeFileSync(path.join(profileDir, `verifyLog-${r}.cpuprofile`), JSON.stringify(profile));
  }
  if (!res.ok) throw new Error(`verification failed: ${res.problem}`);
}
const ratios = ver.map((v, i) => v / bare[i]);
const ratios1 = ver.map((v, i) => v / bare1[i]);
console.log(JSON.stringify({
  entries: n, rounds, verifyMsMedian: round(median(ver), 1), bareMsMedian: round(median(bare), 1), bareOneShotMsMedian: round(median(bare1), 1),
  ratioMedian: round(median(ratios), 3), ratioOneShotMedian: round(median(ratios1), 3), ratios: ratios.map((x) => round(x, 3)), ratiosOneShot: ratios1.map((x) => round(x, 3)),
}));
