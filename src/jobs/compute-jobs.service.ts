/**
 * Compute jobs after submission: the caller's job list, the data node's
 * claim with a lease, the provider-signed result (verified, re-checked
 * against the signed output policy, stored) and who may read it. Every state
 * change and its ledger events commit in one transaction; a refused result
 * writes nothing and leaves the job running.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { conflict, forbidden, invalidField, invalidTransition, mismatch, notFound } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import { requireRole, type Principal } from '../principal.js';
import { decodeCursor, encodeCursor } from '../db/keyset-cursor.js';
import { isNamedReviewer, policyOf } from './review-policy.js';
import { JobEntity, type JobState } from './job.entity.js';
import { jobView } from './jobs.service.js';
import type { JobListItem, JobView } from './job-view.js';
import { computeReleaseStop } from './release-decision.js';
import { claimJob, computeFacts, failJob, jobLabels, listJobs, lockJob, readResult, signingKeys, storeResult, type ComputeJobFacts, type StoredResult } from './job-queue.store.js';
import type { DatasetV1Column } from '../generated/contracts.js';
import { canonicalResult, checkBindings, checkCounts, checkReleasedCells, verifyingKey, type ResultDocument } from './result-verification.js';

/** GET /v1/jobs query (already schema-checked). */
export interface JobQuery {
  role?: 'consumer' | 'provider' | 'reviewer';
  state?: JobState;
  contractId?: string;
  limit: number;
  cursor?: string;
}

export type { JobListItem } from './job-view.js';

/** What a data node receives when it claims a job. */
export interface ClaimView {
  id: string;
  state: 'running';
  analysis: unknown;
  analysisDigest: string;
  purpose: string;
  contractId: string;
  datasetId: string;
  /** The signed contract document (also under `contract`): dataset sha256, access, outputPolicy. */
  document: Record<string, unknown>;
  contract: Record<string, unknown>;
  dataset: { id: string; distribution: ComputeJobFacts['dataset']['distribution']; schema: unknown };
  leaseUntil: string;
  claims: number;
}

/** A stored result as GET /v1/jobs/:id/result answers it. */
export type ResultView =
  | { result: ResultDocument; signature: string; kid: string; resultDigest: string; status: string; state: JobState }
  | { resultDigest: string; status: string; state: JobState };

function subjectsOf(j: JobEntity): Record<string, string> {
  return { job: j.id, contract: j.contractId, dataset: j.datasetId, provider: j.providerId, consumer: j.consumerId };
}

/** The compute side of jobs. */
export class ComputeJobsService {
  constructor(
    private readonly ds: DataSource,
    private readonly leaseSeconds: number,
  ) {}

  /** The caller's jobs as consumer, provider or named reviewer, oldest first, keyset-paginated. */
  async list(actor: Principal, q: JobQuery): Promise<{ items: JobListItem[]; nextCursor: string | null }> {
    // A limit the schema's coercion let through as Infinity (e.g. 1e400) is no page size.
    if (!Number.isSafeInteger(q.limit)) throw invalidField('/limit', 'must be an integer from 1 to 200');
    const role = q.role ?? (['consumer', 'provider', 'reviewer'] as const).find((r) => actor.roles.includes(r)) ?? 'consumer';
    if (role === 'reviewer') requireRole(actor, 'reviewer');
    const rows = await listJobs(this.ds.manager, {
      role, participantId: actor.participantId, state: q.state, contractId: q.contractId, limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const labels = await jobLabels(this.ds.manager, page.map((j) => j.id));
    // A list never carries release tokens: GET /v1/jobs/:id gives the consumer its token.
    const items = page.map((j): JobListItem => {
      const l = labels.get(j.id);
      return { ...jobView(j, false), datasetTitle: l?.dataset_title ?? null, provider: { id: j.providerId, name: l?.provider_name ?? null }, consumer: { id: j.consumerId, name: l?.consumer_name ?? null } };
    });
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** The job's provider (its data node): queued -> running with a lease; a running job whose lease ran out may be claimed again. */
  async claim(actor: Principal, jobId: string): Promise<ClaimView> {
    const outcome = await inTransaction(this.ds, async (tx) => {
      const j = await tx.getRepository(JobEntity).findOneBy({ id: jobId });
      if (!j) throw notFound('job', jobId);
      if (j.providerId !== actor.participantId) throw forbidden('only the job\'s provider claims it');
      if (j.access !== 'compute') throw conflict('INVALID_STATE_TRANSITION', 'a download job is not claimed: its consumer downloads the dataset');
      const facts = await computeFacts(tx, j.contractId);
      // Revocation and withdrawal stop everything at once, queued analyses included.
      const stop = computeReleaseStop(facts.contract_state, facts.dataset.status);
      if (stop && (await failJob(tx, j.id, stop))) {
        await appendEvent(tx, { kind: 'job.failed', actor: 'system', subjects: subjectsOf(j), data: { reason: stop } });
        return { failed: stop } as const;
      }
      const claimed = await claimJob(tx, j.id, actor.participantId, this.leaseSeconds);
      if (!claimed) {
        const detail = j.state === 'running' ? 'the job is running and its lease has not run out' : `the job is ${j.state}`;
        throw conflict('INVALID_STATE_TRANSITION', `cannot claim: ${detail}`);
      }
      await appendEvent(tx, {
        kind: 'job.claimed',
        actor: actor.participantId,
        subjects: subjectsOf(j),
        data: { analysisDigest: j.analysisDigest, leaseUntil: claimed.lease_until.toISOString(), claim: claimed.claims, ...(j.state === 'running' ? { reclaimedAfterLease: true } : {}) },
      });
      const view: ClaimView = {
        id: j.id, state: 'running', analysis: j.analysis, analysisDigest: j.analysisDigest!, purpose: j.purpose, contractId: j.contractId, datasetId: j.datasetId,
        document: facts.document, contract: facts.document,
        dataset: { id: facts.dataset.id, distribution: facts.dataset.distribution, schema: facts.dataset.schema },
        leaseUntil: claimed.lease_until.toISOString(), claims: claimed.claims,
      };
      return { view } as const;
    });
    if ('failed' in outcome) throw conflict('INVALID_STATE_TRANSITION', `cannot claim: the job failed (${outcome.failed})`, { reason: outcome.failed });
    return outcome.view;
  }

  /**
   * The job's provider: post the signed result of a running job. Verified
   * (signature by one of the provider's keys, bindings, released cells
   * against the policy) before anything is written; then stored and the job
   * moves on: pass without review -> completed, review or pass with
   * approvals -> held, fail -> rejected.
   */
  async submitResult(actor: Principal, jobId: string, body: { result: ResultDocument; signature: string }): Promise<JobView & { resultDigest: string }> {
    return inTransaction(this.ds, async (tx) => {
      const j = await lockJob(tx, jobId);
      if (!j) throw notFound('job', jobId);
      if (j.providerId !== actor.participantId) throw forbidden('only the job\'s provider posts its result');
      if (j.access !== 'compute') throw conflict('INVALID_STATE_TRANSITION', 'a download job takes no result');
      if (j.state !== 'running') throw invalidTransition('job', j.state, 'post a result to');
      const facts = await computeFacts(tx, j.contractId);
      const policy = policyOf(facts.document);
      const { canonical, resultDigest } = canonicalResult(body.result);
      const kid = verifyingKey(canonical, body.signature, await signingKeys(tx, j.providerId, j.createdAt));
      if (!kid) throw mismatch('RESULT_MISMATCH', 'the signature does not verify over the result\'s RFC 8785 bytes with any of the provider\'s keys', [{ pointer: '/signature', message: 'does not verify' }]);
      const datasetSha256 = (facts.document.dataset as { sha256: string }).sha256;
      const datasetColumns = (facts.dataset.schema as { columns?: DatasetV1Column[] } | null)?.columns ?? [];
      checkBindings(body.result, { jobId: j.id, contractId: j.contractId, datasetSha256, analysisDigest: j.analysisDigest!, analysis: j.analysis!, datasetColumns });
      checkReleasedCells(body.result, j.analysis!, policy);
      // A revocation or withdrawal since the claim: a valid result, but nothing more leaves.
      const stop = computeReleaseStop(facts.contract_state, facts.dataset.status);
      if (stop) {
        await failJob(tx, j.id, stop);
        await appendEvent(tx, { kind: 'job.failed', actor: 'system', subjects: subjectsOf(j), data: { reason: stop, resultDigest } });
        const failed = await tx.getRepository(JobEntity).findOneByOrFail({ id: j.id });
        return { ...jobView(failed, false), resultDigest };
      }
      const status = body.result.status;
      const state: JobState = status === 'fail' ? 'rejected' : status === 'pass' && policy.review.approvals === 0 ? 'completed' : 'held';
      const reason = status === 'fail' ? (body.result.error?.code ?? 'RESULT_FAILED') : null;
      await storeResult(tx, { jobId: j.id, canonical, signature: body.signature, kid, resultDigest, status, state, reason });
      const subjects = subjectsOf(j);
      await appendEvent(tx, {
        kind: 'job.result',
        actor: actor.participantId,
        subjects,
        data: { resultDigest, status, kid, signature: body.signature, analysisDigest: j.analysisDigest, checks: checkCounts(body.result), suppressedRows: body.result.disclosure.suppressedRows, rows: body.result.rows.length },
      });
      if (state === 'completed') await appendEvent(tx, { kind: 'job.released', actor: actor.participantId, subjects, data: { resultDigest, approvals: 0 } });
      if (state === 'rejected') await appendEvent(tx, { kind: 'job.rejected', actor: actor.participantId, subjects, data: { resultDigest, reason } });
      const after = await tx.getRepository(JobEntity).findOneByOrFail({ id: j.id });
      return { ...jobView(after, false), resultDigest };
    });
  }

  /**
   * The stored result: the consumer once completed; the provider and the
   * policy's reviewers once held or after; operator and auditors only digest
   * and status. 403 for anyone else, 409 RESULT_NOT_AVAILABLE before then.
   */
  async getResult(actor: Principal, jobId: string): Promise<ResultView> {
    const tx: EntityManager = this.ds.manager;
    const j = await tx.getRepository(JobEntity).findOneBy({ id: jobId });
    if (!j) throw notFound('job', jobId);
    const facts = j.access === 'compute' ? await computeFacts(tx, j.contractId) : null;
    const isConsumer = j.consumerId === actor.participantId;
    const full = j.providerId === actor.participantId || (facts !== null && isNamedReviewer(actor, facts.document, j.consumerId));
    const digestOnly = actor.roles.includes('operator') || actor.roles.includes('auditor');
    if (!isConsumer && !full && !digestOnly) throw forbidden('only the job\'s consumer, provider and named reviewers read its result (operator and auditors: digest and status)');
    if (j.access !== 'compute') throw conflict('RESULT_NOT_AVAILABLE', 'a download job has no result stored by the service');
    const stored = await readResult(tx, j.id);
    const notYet = () => conflict('RESULT_NOT_AVAILABLE', stored ? `the result is not released (job ${j.state})` : `no result yet (job ${j.state})`, { state: j.state });
    const whole = (s: StoredResult): ResultView => ({ result: JSON.parse(s.canonical) as ResultDocument, signature: s.signature, kid: s.kid, resultDigest: s.result_digest, status: s.status, state: j.state });
    if (full) {
      if (!stored) throw notYet();
      return whole(stored);
    }
    if (isConsumer) {
      if (!stored || j.state !== 'completed') throw notYet();
      return whole(stored);
    }
    if (!stored) throw notYet();
    return { resultDigest: stored.result_digest, status: stored.status, state: j.state };
  }
}
