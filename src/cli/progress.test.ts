import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair } from '../crypto/ed25519.js';
import { toBase64 } from '../crypto/sha256.js';
import { chainHash, ZERO_HASH } from '../ledger/chain.js';
import { formatCheckpointBody, signNote, verifierKey } from '../ledger/checkpoint.js';
import { leafHashOfEntry, type LedgerEntry } from '../ledger/ledger-entry.js';
import { rootFromLeafHashes } from '../ledger/merkle.js';
import { formatBytes, progressReporter } from './progress.js';
import { processIo, runTds } from './tds.js';
import type { CliIo } from './cli-args.js';

/** The percentages of progress lines (`label: 42% (...)`). */
const percents = (lines: string[]) => lines.map((l) => Number(/: (\d+)% \(/.exec(l)?.[1] ?? NaN));
const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe('progressReporter', () => {
  it('writes nothing without a sink (stderr not a terminal)', () => {
    expect(() => progressReporter(undefined, { label: 'x', total: 10, unit: 'bytes' })(5)).not.toThrow();
    // The real terminal io offers progress only when stderr is a TTY.
    const was = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    try {
      Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
      expect(processIo().progress).toBeUndefined();
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      expect(typeof processIo().progress).toBe('function');
    } finally {
      if (was) Object.defineProperty(process.stderr, 'isTTY', was);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });

  it('writes when the percentage grows, after a silence while bytes still arrive, and the final 100%', () => {
    let t = 0;
    const lines: string[] = [];
    const report = progressReporter((l) => lines.push(l), { label: 'downloading big.csv', total: 2_000_000_000, unit: 'bytes', now: () => t });
    report(0);
    for (let done = 0; done <= 2_000_000_000; done += 1_000_000) report(done); // 2000 chunks, the clock standing still
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe('downloading big.csv: 0% (0 B of 2.0 GB)');
    expect(lines[42]).toBe('downloading big.csv: 42% (840.0 MB of 2.0 GB)');
    expect(lines.at(-1)).toBe('downloading big.csv: 100% (2.0 GB of 2.0 GB)');
    expect(percents(lines)).toEqual(Array.from({ length: 101 }, (_, i) => i));

    // A slow connection: within one percent, a line every 250 ms while bytes arrive, none while nothing moves.
    const slow: string[] = [];
    const r2 = progressReporter((l) => slow.push(l), { label: 'd', total: 1_000_000, unit: 'bytes', now: () => t });
    r2(0);
    t += 100;
    r2(1000);
    t += 200;
    r2(2000);
    t += 300;
    r2(2000);
    expect(slow).toEqual(['d: 0% (0 B of 1.0 MB)', 'd: 0% (2.0 kB of 1.0 MB)']);
  });

  it('counts items, and an empty total is done at once', () => {
    const lines: string[] = [];
    progressReporter((l) => lines.push(l), { label: 'verifying entries', total: 5000, unit: 'items' })(1000);
    progressReporter((l) => lines.push(l), { label: 'e', total: 0, unit: 'items' })(0);
    expect(lines).toEqual(['verifying entries: 20% (1000/5000)', 'e: 100% (0/0)']);
  });

  it('formats bytes in decimal units', () => {
    expect([0, 999, 1000, 1_234_567, 2.94e9, 5e12].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '1.2 MB', '2.9 GB', '5.0 TB']);
  });
});

describe('tds verify shows its progress on a terminal', () => {
  const ORIGIN = 'tds.test/ledger';
  const { secretKey, publicKey } = generateKeyPair();
  const N = 5000;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-progress-'));
    let chain = ZERO_HASH;
    const served = Array.from({ length: N }, (_, index) => {
      const entry: LedgerEntry = { v: 1, index, kind: 'contract.signed', at: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(), actor: `p_${index % 7}`, subjects: { contract: `c_${index % 11}` }, data: { n: index } };
      const leaf = leafHashOfEntry(entry);
      chain = chainHash(chain, leaf);
      return { index, entry, leafHash: toBase64(leaf), chainHash: toBase64(chain) };
    });
    const root = rootFromLeafHashes(served.map((s) => leafHashOfEntry(s.entry)));
    fs.writeFileSync(path.join(dir, 'entries.ndjson'), served.map((s) => `${JSON.stringify(s)}\n`).join(''));
    fs.writeFileSync(path.join(dir, 'checkpoint.txt'), signNote(formatCheckpointBody({ origin: ORIGIN, size: N, rootHash: root }), ORIGIN, secretKey));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (withProgress: boolean) => {
    const out: string[] = [];
    const err: string[] = [];
    const progress: string[] = [];
    const io: CliIo = { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env: {}, ...(withProgress ? { progress: (l: string) => void progress.push(l) } : {}) };
    const code = await runTds(['verify', '--bundle', dir, '--log-key', verifierKey(ORIGIN, publicKey)], io);
    return { code, out, err, progress };
  };

  it('reports increasing percentages ending at 100% while checking every entry', async () => {
    const r = await run(true);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(new RegExp(`^OK: ${N} entries verified`));
    expect(r.progress[0]).toBe(`verifying entries: 0% (0/${N})`);
    expect(r.progress.at(-1)).toBe(`verifying entries: 100% (${N}/${N})`);
    expect(r.progress.length).toBeGreaterThanOrEqual(5);
    expect(nonDecreasing(percents(r.progress))).toBe(true);
    expect(new Set(percents(r.progress)).size).toBe(r.progress.length);
  });

  it('prints no progress when stderr is not a terminal (no sink)', async () => {
    const r = await run(false);
    expect({ code: r.code, err: r.err, progress: r.progress }).toEqual({ code: 0, err: [], progress: [] });
  });
});
