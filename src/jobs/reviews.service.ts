/**
 * Output review: reviewers named in a compute contract's output policy (and
 * holding the role `reviewer`; never the job's consumer) vote on a held
 * result with an Ed25519 signature over the RFC 8785 bytes of
 * {type: "tds.review.v1", jobId, resultDigest, decision}. One vote per
 * reviewer per result (a repeat vote is ALREADY_REVIEWED, held or not; a
 * first vote on a job no longer held is INVALID_STATE_TRANSITION);
 * `approvals` distinct approvals release the result, any rejection rejects
 * it. Votes on one job are serialised by its row lock, so concurrent
 * approvals release exactly once.
 */
import type { DataSource } from 'typeorm';
import { conflict, forbidden, invalidSignature, invalidTransition, notFound, roleRequired } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { canonicalize } from '../crypto/canonical-json.js';
import { JobEntity } from './job.entity.js';
import { jobView, type JobView } from './jobs.service.js';
import { computeReleaseStop } from './release-decision.js';
import { computeFacts, countApprovals, hasReviewed, insertReview, lockJob, readResult, settleJob, signingKeys } from './job-queue.store.js';
import { verifyingKey } from './result-verification.js';
import { policyOf } from './review-policy.js';

/** Body of a vote (already schema-checked). */
export interface ReviewInput {
  decision: 'approve' | 'reject';
  comment?: string;
  signature: string;
}

/** The signed statement of a vote. */
export function reviewStatement(jobId: string, resultDigest: string, decision: 'approve' | 'reject'): { type: 'tds.review.v1'; jobId: string; resultDigest: string; decision: 'approve' | 'reject' } {
  return { type: 'tds.review.v1', jobId, resultDigest, decision };
}

/** Reviews of held compute results. */
export class ReviewsService {
  constructor(private readonly ds: DataSource) {}

  /** A named reviewer votes on a held result; returns the job after the vote. */
  async review(actor: Principal, jobId: string, input: ReviewInput): Promise<JobView & { approvals: number; approvalsNeeded: number }> {
    return inTransaction(this.ds, async (tx) => {
      const j = await lockJob(tx, jobId);
      if (!j) throw notFound('job', jobId);
      if (!actor.roles.includes('reviewer')) throw roleRequired(['reviewer']);
      if (j.access !== 'compute') throw forbidden('a download job has no output review');
      if (j.consumerId === actor.participantId) throw forbidden('the consumer never reviews its own job');
      const facts = await computeFacts(tx, j.contractId);
      const policy = policyOf(facts.document);
      if (!policy.review.reviewers.includes(actor.participantId)) throw forbidden('only reviewers named in the contract\'s outputPolicy.review review its results');
      const stored = await readResult(tx, j.id);
      // A repeat vote is one whatever became of the job since: only a first vote learns that it is no longer held.
      const repeat = j.state !== 'held' && stored !== null && (await hasReviewed(tx, j.id, actor.participantId, stored.result_digest));
      if (!stored || (j.state !== 'held' && !repeat)) throw invalidTransition('job', j.state, 'review');
      const statement = reviewStatement(j.id, stored.result_digest, input.decision);
      const kid = verifyingKey(canonicalize(statement), input.signature, await signingKeys(tx, actor.participantId, j.createdAt));
      if (!kid) throw invalidSignature('the signature does not verify over the RFC 8785 bytes of {type: "tds.review.v1", jobId, resultDigest, decision} with the reviewer\'s key');
      if (repeat) throw conflict('ALREADY_REVIEWED', 'this reviewer has already voted on this result');
      const fresh = await insertReview(tx, { jobId: j.id, reviewerId: actor.participantId, kid, resultDigest: stored.result_digest, decision: input.decision, comment: input.comment ?? null, signature: input.signature });
      if (!fresh) throw conflict('ALREADY_REVIEWED', 'this reviewer has already voted on this result');
      const subjects = { job: j.id, contract: j.contractId, dataset: j.datasetId, provider: j.providerId, consumer: j.consumerId, reviewer: actor.participantId };
      await appendEvent(tx, {
        kind: 'job.reviewed',
        actor: actor.participantId,
        subjects,
        data: { vote: statement, kid, signature: input.signature, ...(input.comment ? { comment: input.comment } : {}) },
      });
      // A result the node itself flagged for review needs at least one approval, whatever the policy says.
      const needed = Math.max(policy.review.approvals, 1);
      const approvals = await countApprovals(tx, j.id, stored.result_digest);
      const stop = computeReleaseStop(facts.contract_state, facts.dataset.status);
      if (input.decision === 'reject') {
        await settleJob(tx, j.id, 'rejected', 'REVIEW_REJECTED');
        await appendEvent(tx, { kind: 'job.rejected', actor: actor.participantId, subjects, data: { resultDigest: stored.result_digest, reason: 'REVIEW_REJECTED' } });
      } else if (approvals >= needed && stop) {
        // Revoked or withdrawn while held: the vote stands, the result never leaves.
        await settleJob(tx, j.id, 'rejected', stop);
        await appendEvent(tx, { kind: 'job.rejected', actor: 'system', subjects, data: { resultDigest: stored.result_digest, reason: stop } });
      } else if (approvals >= needed) {
        await settleJob(tx, j.id, 'completed', null);
        await appendEvent(tx, { kind: 'job.released', actor: actor.participantId, subjects, data: { resultDigest: stored.result_digest, approvals } });
      }
      const after = await tx.getRepository(JobEntity).findOneByOrFail({ id: j.id });
      return { ...jobView(after, false), approvals, approvalsNeeded: needed };
    });
  }
}
