/**
 * Compute at the node: the end-to-end time of a grouped aggregate over N
 * synthetic patients (1,000,000; 100,000 with --quick) in CSV and Parquet,
 * as the data node runs it (SHA-256 of the file, sandbox start, locked-down
 * DuckDB, decode, disclosure control), against the bare DuckDB query on the
 * same file in this process. Both sides run the same compiled SQL with the
 * same thread count; the difference is the node's overhead. An unsandboxed
 * node run separates the sandbox's share from the rest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compileAnalysis } from '../src/compute/compile-analysis.js';
import { runAnalysisJob, sha256File, type AnalysisJob } from '../src/compute/run-analysis.js';
import { buildSandboxImage, defaultWorkerScript, DEFAULT_LIMITS, probeSandbox, type RunnerMode } from '../src/compute/sandbox.js';
import { effectivePolicy, type AggregateAnalysis, type DatasetColumn } from '../src/compute/analysis.js';
import { median, nowMs, round } from './stats.js';

/** Figures of one file format. */
export interface ComputeFormatFigures {
  format: 'csv' | 'parquet';
  rows: number;
  fileMb: number;
  /** Median over the samples, ms. */
  bareQueryMs: number;
  nodeSandboxedMs: number;
  nodeUnsandboxedMs: number;
  /** Of the node's time: hashing the file (digest check before every run). */
  sha256Ms: number;
  overheadMs: number;
  ratio: number;
  samples: number;
  resultRows: number;
}

/** The compute phase's result. */
export interface ComputeFigures {
  rows: number;
  threads: number;
  sandbox: boolean;
  formats: ComputeFormatFigures[];
}

const SCHEMA: DatasetColumn[] = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'ward', type: 'string' },
  { name: 'sex', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
];
const ANALYSIS: AggregateAnalysis = { type: 'aggregate', groupBy: ['ward', 'sex'], filters: [{ column: 'age', op: '>=', value: 18 }], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }, { fn: 'sum', column: 'los_days' }, { fn: 'median', column: 'age' }] };

/** Write the synthetic patients with DuckDB itself (fast, deterministic). */
async function writeFiles(dir: string, rows: number): Promise<{ csv: string; parquet: string }> {
  const csv = path.join(dir, 'patients.csv');
  const parquet = path.join(dir, 'patients.parquet');
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const select = `SELECT 'P' || i AS patient_id, ['cardiology','oncology','surgery','icu','maternity','geriatrics'][1 + (hash(i) % 6)::INTEGER] AS ward,
    CASE WHEN hash(i * 7) % 2 = 0 THEN 'F' ELSE 'M' END AS sex, (hash(i * 13) % 90)::BIGINT AS age, round(1 + (hash(i * 31) % 3000) / 100.0, 2) AS los_days FROM range(${rows}) t(i)`;
  await conn.run(`COPY (${select}) TO '${csv}' (HEADER, DELIMITER ',')`);
  await conn.run(`COPY (${select}) TO '${parquet}' (FORMAT parquet)`);
  conn.closeSync();
  return { csv, parquet };
}

async function bareQuery(file: string, format: 'csv' | 'parquet', threads: number): Promise<{ ms: number; rows: number }> {
  const plan = compileAnalysis({ analysis: ANALYSIS, schema: SCHEMA, format, file });
  const conn = await (await DuckDBInstance.create(':memory:', { threads: String(threads) })).connect();
  const t0 = nowMs();
  await conn.runAndReadAll(plan.querySet!.sql, plan.querySet!.params);
  const r = await conn.runAndReadAll(plan.main.sql, plan.main.params);
  const ms = nowMs() - t0;
  const rows = r.getRowsJson().length;
  conn.closeSync();
  return { ms, rows };
}

/** Run the phase in `workDir`; `samples` timed runs of each variant after one warm-up. */
export async function measureCompute(workDir: string, opts: { rows: number; samples: number }, log: (m: string) => void): Promise<ComputeFigures> {
  const dir = path.join(workDir, 'compute');
  fs.mkdirSync(dir, { recursive: true });
  const files = await writeFiles(dir, opts.rows);
  log(`compute: wrote ${opts.rows} rows as CSV (${round(fs.statSync(files.csv).size / 1e6, 1)} MB) and Parquet (${round(fs.statSync(files.parquet).size / 1e6, 1)} MB)`);
  const image = buildSandboxImage();
  const probed = await probeSandbox(image);
  if (!probed.ok) throw new Error(`sandbox not available: ${probed.reason}`);
  const sandboxed: RunnerMode = { sandbox: true, image };
  const bare: RunnerMode = { sandbox: false, workerScript: defaultWorkerScript() };
  const limits = { ...DEFAULT_LIMITS };
  const formats: ComputeFormatFigures[] = [];
  for (const format of ['parquet', 'csv'] as const) {
    const file = format === 'csv' ? files.csv : files.parquet;
    const job: AnalysisJob = {
      jobId: '00000000-0000-4000-8000-00000000be0c', contractId: '00000000-0000-4000-8000-00000000be0d', analysis: ANALYSIS, analysisDigest: '0'.repeat(64),
      datasetSha256: await sha256File(file), policy: effectivePolicy({}), schema: SCHEMA, fileName: path.basename(file),
      mediaType: format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet',
    };
    const node = async (mode: RunnerMode) => {
      const t0 = nowMs();
      const doc = await runAnalysisJob(job, { dir, mode, limits, log: () => undefined });
      if (doc.status !== 'pass') throw new Error(`node run ${doc.status}: ${doc.error?.code}`);
      return { ms: nowMs() - t0, rows: doc.rows.length };
    };
    const times = { bare: [] as number[], sandboxed: [] as number[], unsandboxed: [] as number[], sha: [] as number[] };
    let resultRows = 0;
    for (let i = 0; i <= opts.samples; i++) {
      const b = await bareQuery(file, format, limits.threads);
      const s = await node(sandboxed);
      const u = await node(bare);
      const h0 = nowMs();
      await sha256File(file);
      const h = nowMs() - h0;
      resultRows = s.rows;
      if (b.rows !== s.rows) throw new Error(`bare query gave ${b.rows} groups, the node released ${s.rows}`);
      // The first round warms the page cache and is not counted.
      if (i === 0) continue;
      times.bare.push(b.ms);
      times.sandboxed.push(s.ms);
      times.unsandboxed.push(u.ms);
      times.sha.push(h);
    }
    const bareMs = median(times.bare);
    const nodeMs = median(times.sandboxed);
    const f: ComputeFormatFigures = {
      format, rows: opts.rows, fileMb: round(fs.statSync(file).size / 1e6, 1), bareQueryMs: round(bareMs, 1), nodeSandboxedMs: round(nodeMs, 1), nodeUnsandboxedMs: round(median(times.unsandboxed), 1),
      sha256Ms: round(median(times.sha), 1), overheadMs: round(nodeMs - bareMs, 1), ratio: round(nodeMs / bareMs, 2), samples: opts.samples, resultRows,
    };
    log(`compute ${format}: node ${f.nodeSandboxedMs} ms (unsandboxed ${f.nodeUnsandboxedMs} ms, sha256 ${f.sha256Ms} ms) vs bare DuckDB ${f.bareQueryMs} ms: overhead ${f.overheadMs} ms (×${f.ratio})`);
    formats.push(f);
  }
  return { rows: opts.rows, threads: limits.threads, sandbox: true, formats };
}

/** Lines for the summary table. */
export function computeRows(c: ComputeFigures | null | undefined): Array<Array<string | number | null>> {
  if (!c) return [['compute at the node', null, 'did not run']];
  return c.formats.map((f) => [
    `grouped aggregate at the node, ${f.format} (${f.rows} rows)`,
    `${f.nodeSandboxedMs} ms vs bare ${f.bareQueryMs} ms`,
    `overhead ${f.overheadMs} ms (×${f.ratio}); unsandboxed ${f.nodeUnsandboxedMs} ms; sha256 ${f.sha256Ms} ms; ${f.fileMb} MB; median of ${f.samples}`,
  ]);
}
