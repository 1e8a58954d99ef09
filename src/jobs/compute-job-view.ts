/**
 * How a compute job shows in the API (GET /v1/jobs/:id, the list, the
 * submission's answer): its state, analysis and digest, the lease while
 * running, the result digest once a result is in, and the reason code of a
 * rejected or failed job. Nothing in it is secret to the job's parties.
 */
import type { JobEntity } from './job.entity.js';
import type { ComputeJobView } from './job-view.js';

export type { ComputeJobView } from './job-view.js';


/** Map a compute job row to its view. */
export function computeJobView(j: JobEntity, counts?: { used: number; remaining: number }): ComputeJobView {
  return {
    id: j.id,
    state: j.state,
    access: 'compute',
    contractId: j.contractId,
    datasetId: j.datasetId,
    consumerId: j.consumerId,
    providerId: j.providerId,
    purpose: j.purpose,
    analysis: j.analysis!,
    analysisDigest: j.analysisDigest!,
    leaseUntil: j.state === 'running' ? (j.leaseUntil?.toISOString() ?? null) : null,
    resultDigest: j.resultDigest,
    reason: j.reason,
    createdAt: j.createdAt.toISOString(),
    completedAt: j.completedAt?.toISOString() ?? null,
    ...(counts ? { invocationsUsed: counts.used, invocationsRemaining: counts.remaining } : {}),
  };
}
