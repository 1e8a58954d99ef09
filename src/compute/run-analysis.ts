/**
 * One analysis from claimed job to unsigned `tds.result.v1` document: find
 * the dataset's file, check its SHA-256 against the signed contract (before
 * every run), compile the analysis, run the queries in the sandbox, decode
 * the statistics and apply the contract's disclosure control. Every failure
 * becomes a `fail` result with a stable code; DuckDB's own messages (which
 * can quote rows of the file) are logged at the hospital and never put in
 * the result.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AnalysisCompileError, MAX_RAW_GROUPS, compileAnalysis, type CompiledPlan } from './compile-analysis.js';
import { decodeGroups, decodeOlsStatistics, decodeQuerySet } from './decode-results.js';
import { controlAggregate, controlRegression, type CountNoise } from './disclosure-control.js';
import { resultColumns } from '../jobs/result-verification.js';
import { fitOls } from './ols.js';
import { datasetPathInside, runConfined, type RunnerMode, type SandboxLimits } from './sandbox.js';
import { RESULT_TYPE, type Analysis, type DatasetColumn, type OutputPolicy, type ResultBody, type ResultDocument, type ResultErrorCode } from './analysis.js';

/** Everything the node knows about a claimed job that the run needs. */
export interface AnalysisJob {
  jobId: string;
  contractId: string;
  analysis: Analysis;
  analysisDigest: string;
  /** The dataset digest the signed contract names. */
  datasetSha256: string;
  policy: OutputPolicy;
  schema: DatasetColumn[];
  /** The file's name in the node's folder (last path segment of the distribution URL). */
  fileName: string;
  mediaType?: string;
}

/** Where and how runs happen. */
export interface RunContext {
  dir: string;
  mode: RunnerMode;
  limits: SandboxLimits;
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
  /** Test hook for the count noise (default: the policy's discrete Laplace). */
  noise?: CountNoise;
  now?: () => Date;
}

/** SHA-256 hex of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

/** A plain file name (no directories, no dot-files), or null. */
export function safeFileName(name: string): string | null {
  if (!/^[^/\\\0]+$/.test(name) || name.startsWith('.') || name.length > 255 || path.basename(name) !== name) return null;
  return name;
}

/** The last path segment of a distribution URL, decoded, when it is a plain file name. */
export function fileNameOfUrl(url: string): string | null {
  try {
    const seg = new URL(url).pathname.split('/').pop() ?? '';
    return safeFileName(decodeURIComponent(seg));
  } catch {
    return null;
  }
}

function formatOf(job: AnalysisJob): 'csv' | 'parquet' | null {
  const mt = (job.mediaType ?? '').toLowerCase();
  if (mt.includes('parquet')) return 'parquet';
  if (mt.startsWith('text/csv')) return 'csv';
  if (/\.parquet$/i.test(job.fileName)) return 'parquet';
  if (/\.csv$/i.test(job.fileName)) return 'csv';
  return null;
}

function columnsOf(job: AnalysisJob): ResultBody['columns'] {
  try {
    return resultColumns(job.analysis, job.schema);
  } catch {
    return [];
  }
}

/** A `fail` body for a run that stopped before disclosure control. */
function failure(job: AnalysisJob, error: ResultErrorCode): ResultBody {
  return { status: 'fail', columns: columnsOf(job), rows: [], disclosure: { policy: job.policy, checks: [], suppressedRows: 0, rounded: job.policy.roundTo > 1, noise: job.policy.noise }, error };
}

async function compute(job: AnalysisJob, ctx: RunContext): Promise<ResultBody> {
  const name = safeFileName(job.fileName);
  const hostPath = name ? path.join(ctx.dir, name) : null;
  if (!hostPath || !fs.existsSync(hostPath) || !fs.statSync(hostPath).isFile()) {
    ctx.log('warn', 'dataset file not found', { jobId: job.jobId, file: job.fileName });
    return failure(job, 'DATASET_NOT_FOUND');
  }
  const actual = await sha256File(hostPath);
  if (actual !== job.datasetSha256) {
    ctx.log('warn', 'dataset digest differs from the contract', { jobId: job.jobId, expected: job.datasetSha256, actual });
    return failure(job, 'DATASET_DIGEST_MISMATCH');
  }
  ctx.log('info', 'dataset digest matches the contract', { jobId: job.jobId, sha256: actual });
  const format = formatOf(job);
  if (!format) return failure(job, 'DATASET_SCHEMA_MISMATCH');
  const dataset = { hostPath, name: name! };
  const inside = datasetPathInside(ctx.mode, dataset);
  let plan: CompiledPlan;
  try {
    plan = compileAnalysis({ analysis: job.analysis, schema: job.schema, format, file: inside.file, topN: Math.max(2, job.policy.dominance.n) });
  } catch (e) {
    if (e instanceof AnalysisCompileError) {
      ctx.log('warn', 'analysis refused by the compiler', { jobId: job.jobId, pointer: e.pointer, detail: e.message });
      return failure(job, 'ANALYSIS_INVALID');
    }
    throw e;
  }
  const queries = [...(plan.querySet ? [plan.querySet] : []), plan.main];
  const request = { allowedDirectory: inside.allowedDirectory, memoryLimit: `${Math.max(64, Math.floor((ctx.limits.memoryBytes / 1024 ** 2) * 0.5))}MB`, threads: ctx.limits.threads, timeoutMs: Math.max(1000, ctx.limits.wallMs - 2000), queries };
  const started = Date.now();
  const run = await runConfined(ctx.mode, JSON.stringify(request), dataset, ctx.limits);
  const answer = parseAnswer(run.stdout);
  ctx.log('info', 'sandbox run finished', { jobId: job.jobId, ms: Date.now() - started, exit: run.code, signal: run.signal, timedOut: run.timedOut, sandbox: ctx.mode.sandbox });
  if (!answer || !answer.ok) {
    const code: ResultErrorCode = run.timedOut ? 'QUERY_TIMEOUT' : answer && !answer.ok ? answer.code : run.signal === 'SIGKILL' || run.signal === 'SIGXCPU' || run.outputTooLarge ? 'RESOURCE_LIMIT' : 'QUERY_FAILED';
    // Kept at the hospital only: DuckDB messages may quote the file's rows.
    ctx.log('warn', 'analysis run failed', { jobId: job.jobId, code, message: answer && !answer.ok ? answer.message : run.stderr.slice(0, 2000) });
    return failure(job, code);
  }
  const results = answer.results;
  const querySet = plan.querySet ? decodeQuerySet(results[0]!) : undefined;
  const mainRows = results[results.length - 1]!;
  if (job.analysis.type === 'aggregate') {
    if (mainRows.length > MAX_RAW_GROUPS) return failure(job, 'TOO_MANY_GROUPS');
    const groups = decodeGroups(mainRows, job.analysis, job.schema);
    return controlAggregate({ analysis: job.analysis, schema: job.schema, policy: job.policy, groups, querySet, noise: ctx.noise });
  }
  const fit = fitOls(decodeOlsStatistics(mainRows, job.analysis));
  return controlRegression({ analysis: job.analysis, policy: job.policy, fit, querySet, noise: ctx.noise });
}

type WorkerAnswer = { ok: true; results: unknown[][][] } | { ok: false; code: ResultErrorCode; message: string };

function parseAnswer(stdout: string): WorkerAnswer | null {
  const line = stdout.trim().split('\n').pop();
  if (!line) return null;
  try {
    const a = JSON.parse(line) as WorkerAnswer;
    if (a.ok === true && Array.isArray(a.results)) return a;
    if (a.ok === false && typeof a.code === 'string') return a;
    return null;
  } catch {
    return null;
  }
}

/** A `fail` result document for a job that must not run (e.g. its claim is not bound to what it says). */
export function failedResultDocument(job: AnalysisJob, code: ResultErrorCode, now = new Date()): ResultDocument {
  return documentOf(job, failure(job, code), now);
}

/** Run one job to its (unsigned) result document. */
export async function runAnalysisJob(job: AnalysisJob, ctx: RunContext): Promise<ResultDocument> {
  let body: ResultBody;
  try {
    body = await compute(job, ctx);
  } catch (e) {
    ctx.log('warn', 'analysis failed unexpectedly', { jobId: job.jobId, err: e instanceof Error ? e.message : String(e) });
    body = failure(job, 'QUERY_FAILED');
  }
  return documentOf(job, body, ctx.now?.() ?? new Date());
}

function documentOf(job: AnalysisJob, body: ResultBody, now: Date): ResultDocument {
  const doc: ResultDocument = {
    type: RESULT_TYPE,
    jobId: job.jobId,
    contractId: job.contractId,
    datasetSha256: job.datasetSha256,
    analysisDigest: job.analysisDigest,
    status: body.status,
    columns: body.columns,
    rows: body.rows,
    disclosure: body.disclosure,
    producedAt: now.toISOString(),
  };
  if (body.n !== undefined) doc.n = body.n;
  if (body.residualDf !== undefined) doc.residualDf = body.residualDf;
  if (body.error !== undefined) doc.error = { code: body.error };
  return doc;
}
