/**
 * The one way a capability records an event: inside its own transaction, so
 * the event and the change it records commit together or not at all (fail
 * closed). The sequencer later gives it an index, leaf and chain hash.
 */
import type { EntityManager } from 'typeorm';

/** Every kind of ledger event. */
export type LedgerEventKind =
  | 'participant.registered'
  | 'participant.approved'
  | 'participant.suspended'
  | 'participant.key_rotated'
  | 'dataset.published'
  | 'dataset.withdrawn'
  | 'dataset.attested'
  | 'offer.published'
  | 'contract.proposed'
  | 'contract.signed'
  | 'contract.activated'
  | 'contract.revoked'
  | 'contract.exhausted'
  | 'contract.expired'
  | 'reciprocity_rule.created'
  | 'job.authorized'
  | 'job.denied'
  | 'job.completed'
  | 'statement.issued'
  | 'job.claimed'
  | 'job.result'
  | 'job.reviewed'
  | 'job.released'
  | 'job.rejected'
  | 'job.failed'
  | 'job.expired';

/** An event before sequencing: who did what to which objects. Ids and digests only, never dataset contents. */
export interface LedgerEvent {
  kind: LedgerEventKind;
  /** Participant id of the actor ('system' for the service itself). */
  actor: string;
  /** Ids of the objects concerned, by type (e.g. {contract: id, dataset: id}). */
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

/** Queue an event in the caller's transaction; throws (and so aborts the transaction) if it cannot. */
export async function appendEvent(tx: EntityManager, event: LedgerEvent): Promise<void> {
  await tx.query('INSERT INTO ledger_queue (kind, actor, subjects, data) VALUES ($1, $2, $3, $4)', [
    event.kind,
    event.actor,
    JSON.stringify(event.subjects),
    JSON.stringify(event.data),
  ]);
}
