/** Offers and contracts, as stored. */
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

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
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
}

/** Contract lifecycle (SPEC): proposed -> consumer_signed -> active -> exhausted | expired | revoked. */
export type ContractState = 'proposed' | 'consumer_signed' | 'active' | 'exhausted' | 'expired' | 'revoked';

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

/** Row of `contract_documents`: the signed document, its RFC 8785 string and digest (never changed). */
@Entity({ name: 'contract_documents' })
export class ContractDocumentEntity {
  @PrimaryColumn({ type: 'uuid', name: 'contract_id' }) contractId!: string;
  @Column({ type: 'jsonb' }) document!: Record<string, unknown>;
  @Column({ type: 'text' }) canonical!: string;
  @Column({ type: 'text' }) digest!: string;
}

/** Row of `contract_signatures`. */
@Entity({ name: 'contract_signatures' })
export class ContractSignatureEntity {
  @PrimaryColumn({ type: 'uuid', name: 'contract_id' }) contractId!: string;
  @PrimaryColumn({ type: 'text' }) party!: 'consumer' | 'provider';
  @Column({ type: 'uuid', name: 'participant_id' }) participantId!: string;
  @Column({ type: 'text' }) kid!: string;
  @Column({ type: 'text' }) signature!: string;
  @Column({ type: 'timestamptz', name: 'signed_at', insert: false, update: false }) signedAt!: Date;
}
