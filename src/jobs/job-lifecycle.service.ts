/**
 * What happens to a download release after it was handed out, besides
 * completion: the consumer reports that the job could not run (`failed`), and
 * a sweep marks `expired` a release whose token ran out without the
 * provider's gateway ever being asked to serve it. Each is a ledger event.
 *
 * Neither gives the invocation back. The invocation is the release: from the
 * moment the token exists the consumer can download the dataset, and the
 * service cannot see the provider's server, so it cannot prove the data did
 * not leave (a consumer could download and then report a failure). Statements
 * bill every `job.authorized` for the same reason. What the events add is
 * evidence for both parties and the auditor (`tds report`): `releaseConfirmed`
 * says whether the provider's gateway asked about the release (it asks just
 * before serving), and after a failure report the gateway refuses the token.
 */
import type { DataSource } from 'typeorm';
import { conflict, forbidden, notFound } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import type { JobFailureV1 } from '../generated/contracts.js';
import { expireUnconfirmedReleases, lockJob, markFailed, type LifecycleJobRow } from './job-lifecycle.store.js';

/** Body of POST /v1/jobs/:id/fail (already schema-checked). */
export type JobFailure = JobFailureV1;

/** Answer of POST /v1/jobs/:id/fail. */
export interface FailedJob {
  id: string;
  state: 'failed';
  reason: string;
  releaseConfirmed: boolean;
}

const subjectsOf = (j: LifecycleJobRow): Record<string, string> => ({ job: j.id, contract: j.contract_id, dataset: j.dataset_id, provider: j.provider_id, consumer: j.consumer_id });

/** Failure reports, gateway confirmations and the expiry sweep of download releases. */
export class JobLifecycleService {
  constructor(private readonly ds: DataSource) {}

  /** The job's consumer: a download job that could not run becomes `failed` (ledger job.failed); the invocation stays used. */
  async fail(actor: Principal, id: string, body: JobFailure): Promise<FailedJob> {
    return inTransaction(this.ds, async (tx) => {
      const j = await lockJob(tx, id);
      if (!j) throw notFound('job', id);
      if (j.consumer_id !== actor.participantId) throw forbidden('only the job\'s consumer reports that it could not run');
      if (j.access !== 'download') throw conflict('INVALID_STATE_TRANSITION', 'a compute job runs at the provider: its data node reports its outcome');
      if (j.state !== 'authorized') throw conflict('INVALID_STATE_TRANSITION', `cannot fail a job in state ${j.state}`);
      await markFailed(tx, id, body.reason);
      const releaseConfirmed = j.release_confirmed_at !== null;
      await appendEvent(tx, {
        kind: 'job.failed',
        actor: actor.participantId,
        subjects: subjectsOf(j),
        data: { access: 'download', reason: body.reason, reportedBy: 'consumer', releaseConfirmed },
      });
      return { id, state: 'failed' as const, reason: body.reason, releaseConfirmed };
    });
  }

  /** Background sweep: unconfirmed releases past their token's expiry become `expired` (ledger job.expired). Returns how many. */
  async expireUnusedReleases(): Promise<number> {
    return inTransaction(this.ds, async (tx) => {
      const expired = await expireUnconfirmedReleases(tx);
      for (const j of expired) {
        await appendEvent(tx, { kind: 'job.expired', actor: 'system', subjects: subjectsOf(j), data: { access: 'download', reason: 'RELEASE_EXPIRED', releaseExpiresAt: j.release_expires_at } });
      }
      return expired.length;
    });
  }
}
