/**
 * Figures 5 (direct half) and 6: grows the ledger to the target size through
 * the real sequencer (LedgerService.integratePending, as the service's
 * background loop runs it) and times its append rate on an empty ledger and
 * on one that already holds the target size; then times inclusion proofs
 * straight from the service class. Events are queued in bulk by SQL in the
 * shape job.authorized has, so entry sizes match real traffic.
 */
import type { DataSource } from 'typeorm';
import type { LedgerService } from '../src/ledger/ledger.service.js';
import { nowMs, percentiles, randomIndex, round, type Percentiles } from './stats.js';
import { startCpuMeter, type CpuUse } from './cpu.js';

/** Append rate over one sample of queued events. */
export interface AppendRate {
  existingEntries: number;
  entries: number;
  ms: number;
  entriesPerSecond: number;
  /** The sequencer runs in the bench process (benchCores); postgresCores is the database's side. */
  cpu: CpuUse;
}

/** What growing the ledger measured. */
export interface LedgerScaleResult {
  targetSize: number;
  appendAtZero: AppendRate;
  appendAtTarget: AppendRate;
  /** Average rate of each fill block, to show a trend rather than two points. */
  fillBlocks: AppendRate[];
  queueFillMs: number;
  /** Checkpoint note signed at exactly targetSize entries, for the verification figure. */
  checkpointAtTarget: { size: number; note: string };
  finalSize: number;
}

// Rows per INSERT … SELECT generate_series: one statement, bounded transaction size.
const QUEUE_CHUNK = 100_000;

/** Queues n job.authorized-shaped events (5 subject ids, the release data), as request transactions would. */
export async function queueEvents(ds: DataSource, n: number): Promise<number> {
  const t0 = nowMs();
  for (let done = 0; done < n; done += QUEUE_CHUNK) {
    const k = Math.min(QUEUE_CHUNK, n - done);
    await ds.query(
      `INSERT INTO ledger_queue (kind, actor, subjects, data)
       SELECT 'job.authorized', c.consumer::text,
              jsonb_build_object('job', gen_random_uuid(), 'contract', c.contract, 'dataset', c.dataset, 'provider', c.provider, 'consumer', c.consumer),
              jsonb_build_object('purpose', 'DUO:0000006', 'sha256', repeat('a', 64), 'invocation', g, 'remaining', 1000000000 - g,
                                 'releaseJti', gen_random_uuid(), 'releaseExpiresAt', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                 'reciprocity', '[]'::jsonb)
         FROM generate_series($1::int, $2::int) AS g,
              LATERAL (SELECT gen_random_uuid() AS contract, gen_random_uuid() AS dataset, gen_random_uuid() AS provider, gen_random_uuid() AS consumer) AS c`,
      [done + 1, done + k],
    );
  }
  return nowMs() - t0;
}

/** Integrates everything queued, batch by batch, exactly as the background loop would; returns the rate. */
async function integrateAll(ledger: LedgerService, existingEntries: number): Promise<AppendRate> {
  const meter = startCpuMeter(() => []);
  const t0 = nowMs();
  let entries = 0;
  for (let n; (n = await ledger.integratePending()) > 0; ) entries += n;
  const ms = nowMs() - t0;
  return { existingEntries, entries, ms: round(ms, 1), entriesPerSecond: round((entries / ms) * 1000, 0), cpu: meter.stop() };
}

/**
 * Grows the (empty) ledger: a timed sample at size 0, fill blocks up to
 * targetSize, a checkpoint at exactly targetSize, then a timed sample on top.
 */
export async function growLedger(ds: DataSource, ledger: LedgerService, opts: { targetSize: number; sample: number; block: number }, log: (m: string) => void): Promise<LedgerScaleResult> {
  if ((await ledger.treeSize()) !== 0) throw new Error('the ledger is not empty: the append rate at 0 would be wrong');
  let queueFillMs = await queueEvents(ds, opts.sample);
  const appendAtZero = await integrateAll(ledger, 0);
  log(`append at 0: ${appendAtZero.entriesPerSecond} entries/s (sequencer ${appendAtZero.cpu.benchCores} cores, postgres ${appendAtZero.cpu.postgresCores})`);
  const fillBlocks: AppendRate[] = [];
  let size = appendAtZero.entries;
  while (size < opts.targetSize) {
    const k = Math.min(opts.block, opts.targetSize - size);
    queueFillMs += await queueEvents(ds, k);
    const r = await integrateAll(ledger, size);
    fillBlocks.push(r);
    size += r.entries;
    log(`ledger ${size}/${opts.targetSize} (${r.entriesPerSecond} entries/s)`);
  }
  const cp = await ledger.checkpoint();
  if (!cp || cp.size !== opts.targetSize) throw new Error(`expected a checkpoint at ${opts.targetSize}, got ${JSON.stringify(cp?.size)}`);
  // Let autovacuum's work on a freshly bulk-filled table not land in the timed sample.
  await ds.query('VACUUM ANALYZE ledger_queue, ledger_entries, ledger_nodes');
  queueFillMs += await queueEvents(ds, opts.sample);
  const appendAtTarget = await integrateAll(ledger, size);
  log(`append at ${size}: ${appendAtTarget.entriesPerSecond} entries/s (sequencer ${appendAtTarget.cpu.benchCores} cores, postgres ${appendAtTarget.cpu.postgresCores})`);
  await ledger.checkpoint();
  // Steady state for the read figures: hint bits and visibility map set now rather than by
  // the first proofs or by an autovacuum competing with the timed phases for the two cores.
  await ds.query('VACUUM ANALYZE ledger_queue, ledger_entries, ledger_nodes, ledger_party_index, ledger_checkpoints');
  return { targetSize: opts.targetSize, appendAtZero, appendAtTarget, fillBlocks, queueFillMs: round(queueFillMs, 0), checkpointAtTarget: { size: cp.size, note: cp.note }, finalSize: await ledger.treeSize() };
}

/** Latency of LedgerService.inclusionProof for random leaves of a tree of treeSize, called one at a time. */
export async function directProofLatency(ledger: LedgerService, treeSize: number, samples: number): Promise<Percentiles> {
  // A few unrecorded calls so the first JIT and pool connections are not in the sample.
  for (let i = 0; i < 20; i++) await ledger.inclusionProof(randomIndex(treeSize), treeSize);
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = nowMs();
    const p = await ledger.inclusionProof(randomIndex(treeSize), treeSize);
    ms.push(nowMs() - t0);
    if (p.proof.length === 0 && treeSize > 1) throw new Error('empty inclusion proof');
  }
  return percentiles(ms);
}
