/**
 * Figures 3 and 5 (HTTP half), through the running service: how long after a
 * 201 the signed checkpoint covers the job's ledger entry, and the latency of
 * GET /v1/ledger/proofs/inclusion on the big ledger.
 */
import { connectClient } from './database.js';
import { call, type TokenSigner } from './client.js';
import { runLoad, type LoadResult, type NextRequest } from './load.js';
import { BENCH_PURPOSE, type SeededContract } from './seed.js';
import { nowMs, percentiles, randomIndex, sleep, type Percentiles } from './stats.js';

/** Time-to-checkpoint samples and the background load they ran under. */
export interface CheckpointLatency {
  samples: number;
  ms: Percentiles;
  backgroundJobs: number;
  backgroundJobsPerSecond: number;
  pollIntervalMs: number;
}

const POLL_MS = 5;

/** The tree size of a signed checkpoint note (second line). */
function noteSize(note: string): number {
  return Number(note.split('\n')[1]);
}

/**
 * For each sample: POST a job, note the time of its 201, find its entry's
 * index (SQL on the GIN-indexed subjects), and poll GET /v1/ledger/checkpoint
 * as the operator until the signed size exceeds that index. Samples are
 * spaced out while two clients keep a light stream of other jobs going.
 */
export async function timeToCheckpoint(base: string, dbUrl: string, operator: TokenSigner, contracts: SeededContract[], samples: number, log: (m: string) => void): Promise<CheckpointLatency> {
  const db = await connectClient(dbUrl);
  let stop = false;
  let background = 0;
  const t0 = nowMs();
  // Background failures end that client's stream (and show as fewer background jobs), never the run.
  const loops = [0, 1].map(async (k) => {
    for (let i = k; !stop; i += 2) {
      const c = contracts[i % contracts.length];
      const r = await call(base, c.consumer, 'POST', '/v1/jobs', { contractId: c.contractId, purpose: BENCH_PURPOSE });
      if (r.status === 201) background++;
      await sleep(20);
    }
  }).map((p) => p.catch(() => undefined));
  const ms: number[] = [];
  try {
    for (let s = 0; s < samples; s++) {
      await sleep(50 + randomIndex(100));
      const c = contracts[randomIndex(contracts.length)];
      const r = await call(base, c.consumer, 'POST', '/v1/jobs', { contractId: c.contractId, purpose: BENCH_PURPOSE });
      const accepted = nowMs();
      if (r.status !== 201) throw new Error(`sample job: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      const subject = JSON.stringify({ job: r.body.id as string });
      let idx: number | null = null;
      for (;;) {
        if (idx === null) {
          const q = await db.query<{ idx: string }>('SELECT idx::text AS idx FROM ledger_entries WHERE subjects @> $1::jsonb', [subject]);
          if (q.rows.length > 0) idx = Number(q.rows[0].idx);
        }
        if (idx !== null) {
          const cp = await call(base, operator, 'GET', '/v1/ledger/checkpoint');
          if (cp.status !== 200) throw new Error(`checkpoint: ${cp.status}`);
          if (noteSize(cp.body.text as string) > idx) break;
        }
        if (nowMs() - accepted > 30_000) throw new Error('no checkpoint covered the job within 30 s');
        await sleep(POLL_MS);
      }
      ms.push(nowMs() - accepted);
    }
  } finally {
    stop = true;
    await Promise.allSettled(loops);
    await db.end();
  }
  const p = percentiles(ms);
  log(`time to checkpoint: p50 ${p.p50} ms, p99 ${p.p99} ms`);
  const secs = (nowMs() - t0) / 1000;
  return { samples, ms: p, backgroundJobs: background, backgroundJobsPerSecond: Math.round(background / secs), pollIntervalMs: POLL_MS };
}

/**
 * GET /v1/ledger/proofs/inclusion for random leaves of a tree of treeSize,
 * one request at a time over one kept-alive connection, tokens pre-signed.
 * The htu binds the path without its query, so every token fits every index.
 * An unrecorded warm-up of as many requests goes first: on this route the
 * first few thousand requests are slower while V8 optimises it and caches fill (measured at
 * 1M entries: p99 6.1-7.6 ms over the first 3,000, 3.9-5.4 ms over the next).
 */
export async function proofLatencyHttp(base: string, auditor: TokenSigner, treeSize: number, samples: number): Promise<LoadResult> {
  const p = '/v1/ledger/proofs/inclusion';
  const stock = (n: number): (() => NextRequest) => {
    const tokens = Array.from({ length: n }, () => auditor.token('GET', p));
    let i = 0;
    return () => ({ method: 'GET', path: `${p}?index=${randomIndex(treeSize)}&treeSize=${treeSize}`, headers: { authorization: `Bearer ${tokens[i++] ?? auditor.token('GET', p)}` } });
  };
  await runLoad({ url: base, connections: 1, amount: samples, expectStatus: 200, next: stock(samples) });
  return runLoad({ url: base, connections: 1, amount: samples, expectStatus: 200, next: stock(samples) });
}
