/**
 * A job as the API shows it (POST /v1/jobs, GET /v1/jobs/:id, the list):
 * one declaration for the service, which builds it (`jobView` in
 * jobs.service.ts, `computeJobView`), and the client, the CLI and the
 * console, which read it. Types only.
 */
import type { Analysis } from './analysis-check.js';
import type { JobState } from './job.entity.js';
import type { ReleaseView } from './release-token.js';

/** A job as the API shows it: a download job with its release (token only to its consumer), or a compute job. */
export type JobView = DownloadJobView | ComputeJobView;

/** A download job: the release token only to its consumer. */
export interface DownloadJobView {
  id: string;
  state: 'authorized' | 'completed' | 'failed' | 'expired';
  access: 'download';
  contractId: string;
  datasetId: string;
  consumerId: string;
  providerId: string;
  purpose: string;
  release: ReleaseView;
  resultDigest: string | null;
  /** Failed: the consumer's reason; expired: RELEASE_EXPIRED. */
  reason?: string;
  createdAt: string;
  completedAt: string | null;
  invocationsUsed?: number;
  invocationsRemaining?: number;
}

/** A compute job as the API shows it. */
export interface ComputeJobView {
  id: string;
  state: JobState;
  access: 'compute';
  contractId: string;
  datasetId: string;
  consumerId: string;
  providerId: string;
  purpose: string;
  analysis: Analysis;
  analysisDigest: string;
  leaseUntil: string | null;
  resultDigest: string | null;
  reason: string | null;
  createdAt: string;
  completedAt: string | null;
  invocationsUsed?: number;
  invocationsRemaining?: number;
}

/** A job in a list: its view plus the dataset's title and both parties' names (null only if a row vanished meanwhile). */
export type JobListItem = JobView & { datasetTitle: string | null; provider: { id: string; name: string | null }; consumer: { id: string; name: string | null } };
