/** A compute job and its release, as stored. */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Analysis } from './analysis-check.js';
import type { Release } from './release-token.js';

/** Download jobs: authorized -> completed | failed (the consumer says it could not run) | expired (token ran out unused). Compute jobs: queued -> running -> completed | held | rejected | failed; held -> completed | rejected. */
export type JobState = 'authorized' | 'completed' | 'queued' | 'running' | 'held' | 'rejected' | 'failed' | 'expired';

/** Row of `jobs`. */
@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'contract_id' }) contractId!: string;
  @Column({ type: 'uuid', name: 'consumer_id' }) consumerId!: string;
  @Column({ type: 'uuid', name: 'provider_id' }) providerId!: string;
  @Column({ type: 'uuid', name: 'dataset_id' }) datasetId!: string;
  @Column({ type: 'text', name: 'research_field' }) researchField!: string;
  @Column({ type: 'text' }) purpose!: string;
  @Column({ type: 'text' }) state!: JobState;
  @Column({ type: 'text', name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column({ type: 'text', name: 'request_digest', nullable: true }) requestDigest!: string | null;
  /** Download jobs: what the job received (the dataset's distribution, the token, its expiry and id); null for compute jobs. */
  @Column({ type: 'jsonb', nullable: true }) release!: Release | null;
  @Column({ type: 'text' }) access!: 'compute' | 'download';
  @Column({ type: 'jsonb', nullable: true }) analysis!: Analysis | null;
  @Column({ type: 'text', name: 'analysis_digest', nullable: true }) analysisDigest!: string | null;
  /** Compute jobs while running: until when the claiming node holds the job. */
  @Column({ type: 'timestamptz', name: 'lease_until', nullable: true }) leaseUntil!: Date | null;
  /** How often the job was claimed (a re-claim after an expired lease counts). */
  @Column({ type: 'integer' }) claims!: number;
  /** Rejected or failed compute jobs: the code saying why; failed download jobs: the consumer's words; expired: RELEASE_EXPIRED. */
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  /** Download jobs: when the provider's gateway was first told the release stands (it asks just before serving). */
  @Column({ type: 'timestamptz', name: 'release_confirmed_at', nullable: true }) releaseConfirmedAt!: Date | null;
  @Column({ type: 'text', name: 'result_digest', nullable: true }) resultDigest!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true }) completedAt!: Date | null;
}
