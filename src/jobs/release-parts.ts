/**
 * Pieces of the release path that need no I/O: the facts of a contract that
 * never change (what a process may keep), the request digest an
 * Idempotency-Key is bound to, the parameter list of the release statements
 * and the job row a release wrote, built without re-reading it.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import { IDEMPOTENCY_INDEX, type ReleaseFacts } from './release.store.js';
import { JobEntity } from './job.entity.js';
import type { ComputeSubmission } from './compute-submission.js';
import type { Analysis } from './analysis-check.js';

/**
 * What a contract's release needs that never changes once it is signed: its
 * parties, dataset (research field, kind, distribution, columns), purposes
 * and terms. `ruled` is true once a reciprocity rule was seen governing its
 * dataset; rules are never deleted, so it never turns false. Everything that
 * does change (states, counts, rules, the caller) is read by the statement.
 */
export type ContractFacts = ReleaseTerms & { ruled: boolean };

/** The unchanging facts a release statement's parameters and the released job are built from. */
export type ReleaseTerms = Pick<ReleaseFacts, 'id' | 'consumer_id' | 'provider_id' | 'dataset_id' | 'purposes' | 'research_field' | 'dataset_kind' | 'distribution' | 'access' | 'output_policy' | 'dataset_schema'>;

/** Most contracts whose facts one process keeps (then it starts over). */
export const CONTRACT_FACTS_MAX = 10_000;

/** The unchanging part of a release-facts row. */
export function contractFactsOf(f: ReleaseFacts): ContractFacts {
  const { id, consumer_id, provider_id, dataset_id, purposes, research_field, dataset_kind, distribution, access, output_policy, dataset_schema } = f;
  return { id, consumer_id, provider_id, dataset_id, purposes, research_field, dataset_kind, distribution, access, output_policy, dataset_schema, ruled: f.rules.length > 0 };
}

/** What a job request binds an Idempotency-Key to: a retry must repeat the same analysis too; download requests keep their digest unchanged. */
export function requestDigestOf(req: { contractId: string; purpose: string; analysis?: Analysis; description?: string }): string {
  // Every member of the body: a retry under the key must repeat the request, its free-text description included.
  return toHex(sha256(utf8(canonicalize({
    contractId: req.contractId, purpose: req.purpose, ...(req.analysis ? { analysis: req.analysis } : {}), ...(req.description !== undefined ? { description: req.description } : {}),
  }))));
}

/** True for the unique violation of the Idempotency-Key index (a concurrent retry won). */
export function isIdempotencyConflict(e: unknown): boolean {
  const pgErr = e as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  return (pgErr.driverError?.code ?? pgErr.code) === '23505' && (pgErr.driverError?.constraint ?? pgErr.constraint) === IDEMPOTENCY_INDEX;
}

/** A download's release as stored in the job row (token only shown to the consumer). */
export type StoredRelease = JobEntity['release'];

/**
 * $1..$14 of RELEASE / RELEASE_AS_CALLER. The JSON values ($8 release, $9
 * subjects, $10 data, $13 analysis) stay objects: pg serialises each for a
 * single statement, and a batch carries them inside its one JSON parameter
 * (batchRows), so none is serialised twice.
 */
export function releaseValues(
  f: ReleaseTerms, consumerId: string, id: string, req: { purpose: string }, idempotencyKey: string | undefined, requestDigest: string,
  compute: ComputeSubmission | null, release: StoredRelease, subjects: object, data: object,
): unknown[] {
  return [
    f.id, consumerId, id, f.research_field, req.purpose, idempotencyKey ?? null, requestDigest,
    release ?? null, subjects, data,
    compute ? 'queued' : 'authorized', compute ? 'compute' : 'download', compute ? compute.analysis : null, compute?.analysisDigest ?? null,
  ];
}

/** The job row a release just wrote, built from what was written: no re-read. */
export function releasedJob(
  f: ReleaseTerms, consumerId: string, req: { purpose: string }, idempotencyKey: string | undefined, requestDigest: string, compute: ComputeSubmission | null,
  counted: { id: string; release: StoredRelease; created_at: Date },
): JobEntity {
  return Object.assign(new JobEntity(), {
    id: counted.id, contractId: f.id, consumerId, providerId: f.provider_id, datasetId: f.dataset_id, researchField: f.research_field,
    purpose: req.purpose, state: compute ? 'queued' as const : 'authorized' as const, idempotencyKey: idempotencyKey ?? null, requestDigest, resultDigest: null, completedAt: null,
    createdAt: counted.created_at, release: counted.release, access: compute ? 'compute' as const : 'download' as const, analysis: compute?.analysis ?? null,
    analysisDigest: compute?.analysisDigest ?? null, leaseUntil: null, claims: 0, reason: null,
  });
}
