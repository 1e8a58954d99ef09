/**
 * The SQL of contracts beyond plain entity reads: the proposal (contract row
 * and its signed document in one statement), state changes, and the expiry
 * sweep. The invocation counter is not here: the release statement
 * (jobs/release.store.ts) counts it atomically with the job it releases.
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

/** Which contracts a list shows: one side of the caller's, either side (`party`), or every contract (`all`: operator, auditors). */
export interface ContractListFilter {
  scope: 'provider' | 'consumer' | 'party' | 'all';
  participantId: string;
  state?: ContractState;
  after?: [string, string];
  limit: number;
}

/** One row of the contract list: the contract's terms with its dataset's title and both parties' names. */
export interface ContractListRow {
  id: string;
  offer_id: string;
  dataset_id: string;
  dataset_title: string;
  provider_id: string;
  provider_name: string;
  consumer_id: string;
  consumer_name: string;
  state: ContractState;
  access: 'compute' | 'download';
  digest: string;
  purposes: string[];
  max_invocations: number;
  invocations_used: number;
  valid_from: Date;
  valid_until: Date;
  created_at: Date;
}

// The state a reader sees (as ContractsService's effectiveState): an open contract past its window is expired before the sweeper marks it.
const EFFECTIVE_STATE = `CASE WHEN c.state IN ('proposed', 'consumer_signed', 'active') AND c.valid_until <= now() THEN 'expired' ELSE c.state END`;

/**
 * One page of contracts, oldest first, keyset-paginated on (created_at, id);
 * limit + 1 rows, so the caller knows whether another page follows. A named
 * read model: it joins the dataset's title and the parties' names (tables of
 * the catalog and the directory) so a list shows people names, not only ids.
 */
export async function listContracts(tx: EntityManager, f: ContractListFilter): Promise<ContractListRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  if (f.scope === 'provider') where.push(`c.provider_id = ${param(f.participantId)}`);
  else if (f.scope === 'consumer') where.push(`c.consumer_id = ${param(f.participantId)}`);
  else if (f.scope === 'party') {
    const me = param(f.participantId);
    where.push(`(c.provider_id = ${me} OR c.consumer_id = ${me})`);
  }
  if (f.state) where.push(`${EFFECTIVE_STATE} = ${param(f.state)}`);
  if (f.after) where.push(`(c.created_at, c.id) > (${param(f.after[0])}::timestamptz, ${param(f.after[1])}::uuid)`);
  return (await tx.query(
    `SELECT c.id, c.offer_id, c.dataset_id, d.title AS dataset_title, c.provider_id, pp.name AS provider_name, c.consumer_id, pc.name AS consumer_name,
            ${EFFECTIVE_STATE} AS state, COALESCE(cd.document->>'access', 'download') AS access, cd.digest,
            c.purposes, c.max_invocations, c.invocations_used, c.valid_from, c.valid_until, c.created_at
       FROM contracts c
       JOIN contract_documents cd ON cd.contract_id = c.id
       JOIN datasets d ON d.id = c.dataset_id
       JOIN participants pp ON pp.id = c.provider_id
       JOIN participants pc ON pc.id = c.consumer_id
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY c.created_at, c.id
      LIMIT ${param(f.limit + 1)}`,
    params,
  )) as ContractListRow[];
}
