/** A compute job and its release, as stored. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the job received: the token (shown only to the consumer) and where the bytes are. */
export interface Release {
  token: string;
  url: string;
  sha256: string;
  byteSize: number;
  mediaType: string;
  expiresAt: string;
  jti: string;
}

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
  @Column({ type: 'text' }) state!: 'authorized' | 'completed';
  @Column({ type: 'text', name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column({ type: 'text', name: 'request_digest', nullable: true }) requestDigest!: string | null;
  @Column({ type: 'jsonb' }) release!: Release;
  @Column({ type: 'text', name: 'result_digest', nullable: true }) resultDigest!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true }) completedAt!: Date | null;
}
