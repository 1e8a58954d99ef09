/**
 * The hospital's data node (`tds node`): it connects OUT to the service
 * with the provider's key, polls its queue, claims a job, checks that the
 * claim is bound to what it will run (its own contract, a compute contract,
 * the analysis digest recomputed here), runs the analysis next to the data in
 * the sandbox, signs the disclosure-checked result and posts it. A job runs
 * only after a successful claim, so a restarted node never runs a job twice
 * without a new claim; jobs whose lease ran out (a crashed node) are claimed
 * again. Network and 5xx failures back off and retry, so the node outlives
 * service restarts. Every step is logged.
 */
import type { Logger } from 'pino';
import { TdsApiError, type TdsClient } from '../client/tds-client.js';
import { claimJob, digestOf, listJobs, postResult, signDocument, type ClaimedJob, type ComputeJob } from '../client/compute-api.js';
import { failedResultDocument, runAnalysisJob, fileNameOfUrl, type AnalysisJob, type RunContext } from './run-analysis.js';
import { effectivePolicy, RESULT_TYPE, type Analysis, type DatasetColumn, type OutputPolicy, type ResultDocument } from './analysis.js';
import type { RunnerMode, SandboxLimits } from './sandbox.js';

/** Settings of a running node. */
export interface DataNodeOptions {
  client: TdsClient;
  dir: string;
  mode: RunnerMode;
  limits: SandboxLimits;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Poll interval when the queue is empty, ms. */
  intervalMs: number;
  /** Longest back-off after failures, ms. */
  maxBackoffMs?: number;
}

/** A started node: stop() finishes the current step and resolves when the loop has ended. */
export interface DataNode {
  stop(): Promise<void>;
  /** Jobs whose result the service accepted, for logs and tests. */
  readonly completed: number;
}

/** Waits ms, or until the signal aborts; leaves no listener on the signal either way (the node polls for its whole life). */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** True for failures worth retrying: no connection, timeouts, 5xx, 429. */
function transient(e: unknown): boolean {
  if (e instanceof TdsApiError) return e.status >= 500 || e.status === 429;
  return true;
}

/** Turn a claim answer into the job the runner takes; throws a short reason when the claim is not bound to a runnable compute job. */
export function analysisJobOf(claim: ClaimedJob, providerId: string | undefined): AnalysisJob & { bindingError?: 'ANALYSIS_INVALID' } {
  const doc = (claim.document ?? claim.contract ?? {}) as { id?: string; access?: string; dataset?: { sha256?: string }; provider?: { id?: string }; outputPolicy?: Partial<OutputPolicy> };
  if (providerId && doc.provider?.id && doc.provider.id !== providerId) throw new Error('the claimed job belongs to another provider');
  if (doc.id && doc.id !== claim.contractId) throw new Error('the claim names a contract other than its document');
  if (doc.access && doc.access !== 'compute') throw new Error('the contract is not a compute contract');
  const sha = doc.dataset?.sha256 ?? claim.dataset?.distribution.sha256;
  if (!sha || !/^[0-9a-f]{64}$/.test(sha)) throw new Error('the claim carries no dataset digest');
  const url = claim.dataset?.distribution.url;
  const fileName = url ? fileNameOfUrl(url) : null;
  if (!fileName) throw new Error('the claim carries no usable distribution URL');
  const job: AnalysisJob & { bindingError?: 'ANALYSIS_INVALID' } = {
    jobId: claim.id,
    contractId: claim.contractId,
    analysis: claim.analysis as Analysis,
    analysisDigest: claim.analysisDigest,
    datasetSha256: sha,
    policy: effectivePolicy(doc.outputPolicy),
    schema: (claim.dataset?.schema?.columns ?? []) as DatasetColumn[],
    fileName,
    mediaType: claim.dataset?.distribution.mediaType,
  };
  // The result is bound to analysisDigest: recompute it rather than sign the service's word for it.
  if (digestOf(claim.analysis) !== claim.analysisDigest) job.bindingError = 'ANALYSIS_INVALID';
  return job;
}

/** Start the loop; it runs until stop(). */
export function startDataNode(opts: DataNodeOptions): DataNode {
  const { client, logger } = opts;
  const creds = client.credentials;
  if (!creds?.id) throw new Error('the key file has no participant id: register the provider first');
  const abort = new AbortController();
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let completed = 0;
  let failures = 0;
  const log: RunContext['log'] = (level, msg, fields) => logger[level](fields ?? {}, msg);
  const ctx: RunContext = { dir: opts.dir, mode: opts.mode, limits: opts.limits, log };

  /** Post a signed result; retried while the service is unreachable, given up on a refusal. */
  const deliver = async (jobId: string, result: ResultDocument, signature: string): Promise<boolean> => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        const job = await postResult(client, jobId, { result, signature });
        logger.info({ jobId, state: job.state, resultDigest: digestOf(result), status: result.status }, 'result accepted');
        return true;
      } catch (e) {
        if (!transient(e)) {
          logger.error({ jobId, code: (e as TdsApiError).code, detail: (e as TdsApiError).detail }, 'result refused by the service');
          return false;
        }
        const wait = Math.min(maxBackoff, 500 * 2 ** attempt);
        logger.warn({ jobId, err: (e as Error).message, retryInMs: wait }, 'cannot post the result yet; retrying');
        await sleep(wait, abort.signal);
      }
    }
    return false;
  };

  const handle = async (listed: ComputeJob): Promise<void> => {
    let claim: ClaimedJob;
    try {
      claim = await claimJob(client, listed.id);
    } catch (e) {
      if (e instanceof TdsApiError && !transient(e)) {
        logger.info({ jobId: listed.id, code: e.code }, 'claim refused (another node has it, or it is no longer queued)');
        return;
      }
      throw e;
    }
    logger.info({ jobId: claim.id, contractId: claim.contractId, leaseUntil: claim.leaseUntil, analysisDigest: claim.analysisDigest }, 'job claimed');
    if (!opts.mode.sandbox) logger.warn({ jobId: claim.id }, 'UNSAFE: running this analysis WITHOUT the sandbox (--unsafe-no-sandbox)');
    let job: ReturnType<typeof analysisJobOf>;
    try {
      job = analysisJobOf(claim, creds.id);
    } catch (e) {
      logger.error({ jobId: claim.id, err: (e as Error).message }, 'claimed job is not runnable here; leaving it to its lease');
      return;
    }
    if (job.bindingError) logger.error({ jobId: claim.id, analysisDigest: claim.analysisDigest }, 'the analysis does not hash to its analysisDigest; failing the job without running it');
    const result = job.bindingError ? failedResultDocument(job, job.bindingError) : await runAnalysisJob(job, ctx);
    if (result.type !== RESULT_TYPE) throw new Error('unexpected result document');
    const signature = signDocument(result, creds.privateJwk);
    logger.info({ jobId: claim.id, status: result.status, error: result.error?.code, rows: result.rows.length, suppressedRows: result.disclosure.suppressedRows, resultDigest: digestOf(result) }, 'result signed');
    if (new Date(claim.leaseUntil).getTime() < Date.now()) logger.warn({ jobId: claim.id, leaseUntil: claim.leaseUntil }, 'the lease ran out during the run; the service may refuse the result');
    if (await deliver(claim.id, result, signature)) completed++;
  };

  /** Queued jobs first, then running jobs whose lease ran out (their node died). */
  const nextJobs = async (): Promise<ComputeJob[]> => {
    const queued = await listJobs(client, { role: 'provider', state: 'queued', limit: 20 });
    if (queued.items.length > 0) return queued.items;
    const running = await listJobs(client, { role: 'provider', state: 'running', limit: 50 });
    return running.items.filter((j) => j.leaseUntil && new Date(j.leaseUntil).getTime() < Date.now());
  };

  const loop = async () => {
    logger.info({ service: client.baseUrl, dir: opts.dir, sandbox: opts.mode.sandbox, limits: opts.limits }, 'data node started');
    while (!abort.signal.aborted) {
      try {
        const jobs = await nextJobs();
        if (failures > 0) logger.info({ after: failures }, 'service reachable again');
        failures = 0;
        for (const j of jobs) {
          if (abort.signal.aborted) break;
          await handle(j);
        }
        if (jobs.length === 0) await sleep(opts.intervalMs, abort.signal);
      } catch (e) {
        failures++;
        const wait = Math.min(maxBackoff, 500 * 2 ** Math.min(failures, 10));
        logger.warn({ err: (e as Error).message, code: (e as TdsApiError).code, retryInMs: wait }, 'service call failed; backing off');
        await sleep(wait, abort.signal);
      }
    }
    logger.info({ completed }, 'data node stopped');
  };
  const done = loop();
  return {
    stop: async () => {
      abort.abort();
      await done;
    },
    get completed() {
      return completed;
    },
  };
}
