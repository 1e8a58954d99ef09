/**
 * The SQL of contracts beyond plain entity reads: the proposal (contract row
 * and its signed document in one statement), state changes, and the expiry
 * sweep. The invocation counter is not here: the release statement
 * (jobs/release-statements.ts) counts it atomically with the job it releases.
 */
import type { EntityManager } from 'typeorm';
import type { ContractState } from './contract.entity.js';

/** What a proposal stores: the contract's terms and its canonical document. */
export interface ProposedContract {
  id: string;
  offerId: string;
  datasetId: string;
  providerId: string;
  consumerId: string;
  purposes: string[];
  maxInvocations: number;
  validFrom: Date;
  validUntil: Date;
  document: object;
  canonical: string;
  digest: string;
}

/** Insert a proposed contract and its document together. */
export async function insertProposedContract(tx: EntityManager, c: ProposedContract): Promise<void> {
  // jsonb through raw SQL: TypeORM's deep-partial typing does not fit a free-form document.
  await tx.query(
    `WITH c AS (
       INSERT INTO contracts (id, offer_id, dataset_id, provider_id, consumer_id, state, purposes, max_invocations, valid_from, valid_until)
       VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7, $8, $9) RETURNING id)
     INSERT INTO contract_documents (contract_id, document, canonical, digest) SELECT id, $10, $11, $12 FROM c`,
    [c.id, c.offerId, c.datasetId, c.providerId, c.consumerId, c.purposes, c.maxInvocations, c.validFrom, c.validUntil, JSON.stringify(c.document), c.canonical, c.digest],
  );
}

/** Move a contract (locked by the caller) to a new state. */
export async function updateContractState(tx: EntityManager, id: string, state: ContractState): Promise<void> {
  await tx.query('UPDATE contracts SET state = $2, updated_at = clock_timestamp() WHERE id = $1', [id, state]);
}

/** Revoke a contract (locked by the caller), keeping the reason. */
export async function revokeContract(tx: EntityManager, id: string, reason: string): Promise<void> {
  await tx.query(`UPDATE contracts SET state = 'revoked', revoke_reason = $2, updated_at = clock_timestamp() WHERE id = $1`, [id, reason]);
}

/** Mark every open contract past its window as expired; returns the parties of each, for their ledger events. */
export async function expireDueContracts(tx: EntityManager): Promise<Array<{ id: string; dataset_id: string; provider_id: string; consumer_id: string }>> {
  const rows = (await tx.query(
    `UPDATE contracts SET state = 'expired', updated_at = clock_timestamp()
      WHERE state IN ('proposed', 'consumer_signed', 'active') AND valid_until <= now()
      RETURNING id, state, dataset_id, provider_id, consumer_id`,
  )) as [Array<{ id: string; dataset_id: string; provider_id: string; consumer_id: string }>, number];
  return rows[0];
}
