/** An offer, as stored. */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Access, OutputPolicy } from './output-policy.js';

/** Row of `offers`: a provider's standing terms on one dataset. */
@Entity({ name: 'offers' })
export class OfferEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'dataset_id' }) datasetId!: string;
  @Column({ type: 'uuid', name: 'provider_id' }) providerId!: string;
  @Column({ type: 'text', array: true }) purposes!: string[];
  @Column({ type: 'integer', name: 'max_invocations' }) maxInvocations!: number;
  @Column({ type: 'timestamptz', name: 'valid_from' }) validFrom!: Date;
  @Column({ type: 'timestamptz', name: 'valid_until' }) validUntil!: Date;
  @Column({ type: 'uuid', array: true, name: 'reciprocity_rule_ids' }) reciprocityRuleIds!: string[];
  @Column({ type: 'numeric', name: 'price_per_invocation', nullable: true }) pricePerInvocation!: string | null;
  @Column({ type: 'text', nullable: true }) currency!: string | null;
  @Column({ type: 'text' }) status!: 'active' | 'withdrawn';
  @Column({ type: 'text' }) access!: Access;
  /** Compute offers only: the policy with every default filled in. */
  @Column({ type: 'jsonb', name: 'output_policy', nullable: true }) outputPolicy!: OutputPolicy | null;
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
}
