/** A contract's signed document, as stored. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `contract_documents`: the signed document, its RFC 8785 string and digest (never changed). */
@Entity({ name: 'contract_documents' })
export class ContractDocumentEntity {
  @PrimaryColumn({ type: 'uuid', name: 'contract_id' }) contractId!: string;
  @Column({ type: 'jsonb' }) document!: Record<string, unknown>;
  @Column({ type: 'text' }) canonical!: string;
  @Column({ type: 'text' }) digest!: string;
}
