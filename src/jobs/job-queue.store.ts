/**
 * The SQL of compute jobs after submission: the caller's job list (keyset
 * pagination), the claim (one conditional UPDATE, so of many nodes claiming
 * at once exactly one wins), the facts a result or a review is checked
 * against, and the writes that store a result or a vote. Every function takes
 * the caller's transaction manager; the service owns the transaction.
 */
import type { EntityManager } from 'typeorm';
import { JobEntity, type JobState } from './job.entity.js';

/** Which of the caller's jobs a list shows. */
export interface JobListFilter {
  role: 'consumer' | 'provider' | 'reviewer';
  participantId: string;
  state?: JobState;
  contractId?: string;
  after?: [string, string];
  limit: number;
}

/** One page of jobs, oldest first (a node works its queue in order). */
export async function listJobs(tx: EntityManager, f: JobListFilter): Promise<JobEntity[]> {
  const qb = tx.getRepository(JobEntity).createQueryBuilder('j').orderBy('j.created_at', 'ASC').addOrderBy('j.id', 'ASC').limit(f.limit + 1);
  if (f.role === 'consumer') qb.where('j.consumer_id = :me', { me: f.participantId });
  else if (f.role === 'provider') qb.where('j.provider_id = :me', { me: f.participantId });
  else {
    // The reviewers named in the signed policy; never the job's own consumer.
    qb.innerJoin('contract_documents', 'cd', 'cd.contract_id = j.contract_id')
      .where(`j.access = 'compute'`)
      .andWhere(`cd.document->'outputPolicy'->'review'->'reviewers' @> jsonb_build_array(CAST(:me AS text))`, { me: f.participantId })
      .andWhere('CAST(j.consumer_id AS text) <> :me');
  }
  if (f.state) qb.andWhere('j.state = :state', { state: f.state });
  if (f.contractId) qb.andWhere('j.contract_id = :cid', { cid: f.contractId });
  if (f.after) qb.andWhere('(j.created_at, j.id) > (:t, :id)', { t: f.after[0], id: f.after[1] });
  return qb.getMany();
}

/** What a job list shows beside the ids: the dataset's title and both parties' names. */
export interface JobLabels {
  dataset_title: string;
  provider_name: string;
  consumer_name: string;
}

/**
 * The labels of a page of jobs, by job id. A named read model: it reads the
 * catalog's and the directory's tables so a list is two queries, not one per row.
 */
export async function jobLabels(tx: EntityManager, jobIds: string[]): Promise<Map<string, JobLabels>> {
  if (jobIds.length === 0) return new Map();
  const rows = (await tx.query(
    `SELECT j.id, d.title AS dataset_title, pp.name AS provider_name, pc.name AS consumer_name
       FROM jobs j JOIN datasets d ON d.id = j.dataset_id JOIN participants pp ON pp.id = j.provider_id JOIN participants pc ON pc.id = j.consumer_id
      WHERE j.id = ANY($1::uuid[])`,
    [jobIds],
  )) as Array<JobLabels & { id: string }>;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Take a compute job for its provider's node: queued, or running with an
 * expired lease. Returns the updated row, or null when the job cannot be
 * claimed (another claim won, or it is in another state).
 */
export async function claimJob(tx: EntityManager, jobId: string, providerId: string, leaseSeconds: number): Promise<{ lease_until: Date; claims: number } | null> {
  const rows = (await tx.query(
    `UPDATE jobs SET state = 'running', lease_until = now() + make_interval(secs => $3), claims = claims + 1
      WHERE id = $1 AND provider_id = $2 AND access = 'compute'
        AND (state = 'queued' OR (state = 'running' AND lease_until <= now()))
      RETURNING lease_until, claims`,
    [jobId, providerId, leaseSeconds],
  )) as [Array<{ lease_until: Date; claims: number }>, number];
  return rows[0][0] ?? null;
}

/** A job's row locked FOR UPDATE (results and votes on one job are serialised). */
export async function lockJob(tx: EntityManager, jobId: string): Promise<JobEntity | null> {
  return tx.getRepository(JobEntity).findOne({ where: { id: jobId }, lock: { mode: 'pessimistic_write' } });
}

/** What a compute job is checked against: the signed contract, the dataset, their states. */
export interface ComputeJobFacts {
  document: Record<string, unknown>;
  contract_state: string;
  dataset: { id: string; distribution: { url: string; sha256: string; byteSize: number; mediaType: string }; schema: unknown; status: string };
}

/**
 * The contract document and dataset of a job's contract, share-locked until the
 * transaction ends: a revocation or withdrawal (which update these rows) waits
 * for a claim, result or review under way, and the next one sees it.
 */
export async function computeFacts(tx: EntityManager, contractId: string): Promise<ComputeJobFacts> {
  const rows = (await tx.query(
    `SELECT cd.document, c.state AS contract_state,
            json_build_object('id', d.id, 'distribution', d.distribution, 'schema', d.schema, 'status', d.status) AS dataset
       FROM contracts c JOIN contract_documents cd ON cd.contract_id = c.id JOIN datasets d ON d.id = c.dataset_id
      WHERE c.id = $1
        FOR SHARE OF c, d`,
    [contractId],
  )) as ComputeJobFacts[];
  return rows[0]!;
}

/** The signed document of a contract, read without locks (what a read-only request needs: it never changes). */
export async function contractDocumentOf(q: EntityManager, contractId: string): Promise<Record<string, unknown>> {
  const rows = (await q.query('SELECT document FROM contract_documents WHERE contract_id = $1', [contractId])) as Array<{ document: Record<string, unknown> }>;
  return rows[0]?.document ?? {};
}

/** The keys that may sign for a participant now: its current key, and keys rotated away after `since`. */
export async function signingKeys(tx: EntityManager, participantId: string, since: Date): Promise<Array<{ kid: string; public_jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } }>> {
  return (await tx.query(
    `SELECT kid, public_jwk FROM participant_keys WHERE participant_id = $1 AND (revoked_at IS NULL OR revoked_at > $2) ORDER BY revoked_at DESC NULLS FIRST`,
    [participantId, since],
  )) as Array<{ kid: string; public_jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } }>;
}

/** Store an accepted result and move the job to its next state. */
export async function storeResult(
  tx: EntityManager,
  r: { jobId: string; canonical: string; signature: string; kid: string; resultDigest: string; status: string; state: JobState; reason: string | null },
): Promise<void> {
  await tx.query(`INSERT INTO job_results (job_id, canonical, signature, kid, result_digest, status) VALUES ($1, $2, $3, $4, $5, $6)`, [r.jobId, r.canonical, r.signature, r.kid, r.resultDigest, r.status]);
  await tx.query(
    `UPDATE jobs SET state = $2, result_digest = $3, reason = $4, lease_until = NULL,
            completed_at = CASE WHEN $2 IN ('completed', 'rejected') THEN clock_timestamp() ELSE NULL END
      WHERE id = $1`,
    [r.jobId, r.state, r.resultDigest, r.reason],
  );
}

/** A stored result. */
export interface StoredResult {
  canonical: string;
  signature: string;
  kid: string;
  result_digest: string;
  status: 'pass' | 'review' | 'fail';
}

/** The stored result of a job, or null. */
export async function readResult(tx: EntityManager, jobId: string): Promise<StoredResult | null> {
  const rows = (await tx.query(`SELECT canonical, signature, kid, result_digest, status FROM job_results WHERE job_id = $1`, [jobId])) as StoredResult[];
  return rows[0] ?? null;
}

/** Move a held job to completed or rejected. */
export async function settleJob(tx: EntityManager, jobId: string, state: 'completed' | 'rejected', reason: string | null): Promise<void> {
  await tx.query(`UPDATE jobs SET state = $2, reason = $3, completed_at = clock_timestamp() WHERE id = $1`, [jobId, state, reason]);
}

/** Mark a queued or running job failed with a reason code; false when it was in another state (someone else settled it). */
export async function failJob(tx: EntityManager, jobId: string, reason: string): Promise<boolean> {
  const rows = (await tx.query(
    `UPDATE jobs SET state = 'failed', reason = $2, lease_until = NULL, completed_at = clock_timestamp() WHERE id = $1 AND state IN ('queued', 'running') RETURNING id`,
    [jobId, reason],
  )) as [unknown[], number];
  return rows[0].length === 1;
}

/** Store one reviewer's vote; false when this reviewer already voted on the job. */
export async function insertReview(
  tx: EntityManager,
  v: { jobId: string; reviewerId: string; kid: string; resultDigest: string; decision: 'approve' | 'reject'; comment: string | null; signature: string },
): Promise<boolean> {
  const rows = (await tx.query(
    `INSERT INTO job_reviews (job_id, reviewer_id, kid, result_digest, decision, comment, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (job_id, reviewer_id) DO NOTHING RETURNING job_id`,
    [v.jobId, v.reviewerId, v.kid, v.resultDigest, v.decision, v.comment, v.signature],
  )) as unknown[];
  return rows.length === 1;
}

/**
 * Whether this reviewer has a vote on this result of the job. A review asks
 * it when the job is no longer held, so that a repeat vote is told it is one
 * (ALREADY_REVIEWED) as it is while held, rather than that the job moved on.
 */
export async function hasReviewed(tx: EntityManager, jobId: string, reviewerId: string, resultDigest: string): Promise<boolean> {
  const rows = (await tx.query(`SELECT 1 FROM job_reviews WHERE job_id = $1 AND reviewer_id = $2 AND result_digest = $3`, [jobId, reviewerId, resultDigest])) as unknown[];
  return rows.length > 0;
}

/** Distinct approvals of a job's result. */
export async function countApprovals(tx: EntityManager, jobId: string, resultDigest: string): Promise<number> {
  const rows = (await tx.query(`SELECT count(DISTINCT reviewer_id)::int AS n FROM job_reviews WHERE job_id = $1 AND result_digest = $2 AND decision = 'approve'`, [jobId, resultDigest])) as Array<{ n: number }>;
  return rows[0]!.n;
}
