/** A contract's state and counters, as stored (its document and signatures have their own rows). */
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ContractState } from './contract-view.js';

/** Contract lifecycle (declared with the contract's view, re-exported for the stores and rules that read rows). */
export type { ContractState };

/** Row of `contracts`. */
@Entity({ name: 'contracts' })
export class ContractEntity {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'uuid', name: 'offer_id' }) offerId!: string;
  @Column({ type: 'uuid', name: 'dataset_id' }) datasetId!: string;
  @Column({ type: 'uuid', name: 'provider_id' }) providerId!: string;
  @Column({ type: 'uuid', name: 'consumer_id' }) consumerId!: string;
  @Column({ type: 'text' }) state!: ContractState;
  @Column({ type: 'text', array: true }) purposes!: string[];
  @Column({ type: 'integer', name: 'max_invocations' }) maxInvocations!: number;
  @Column({ type: 'integer', name: 'invocations_used' }) invocationsUsed!: number;
  @Column({ type: 'timestamptz', name: 'valid_from' }) validFrom!: Date;
  @Column({ type: 'timestamptz', name: 'valid_until' }) validUntil!: Date;
  @Column({ type: 'text', name: 'revoke_reason', nullable: true }) revokeReason!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
}
