/** A party's signature of a contract, as stored. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

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
