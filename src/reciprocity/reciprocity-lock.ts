/**
 * Serialisation of what reciprocity depends on. A release under reciprocity
 * rules and a change to the requester's own contribution in the same research
 * field (withdrawing a dataset) take the same transaction-scoped advisory
 * lock, one per (participant, field), so the rules are evaluated on facts
 * that cannot change until the release has committed: two releases of one
 * requester under give-to-get cannot both see "one more is allowed", and a
 * job that starts after a withdrawal committed sees the withdrawal. Only the
 * reference path takes it: the one-read path holds no lock and relies on the
 * release statement's checks at commit (fact versions, received counts;
 * reciprocity.store.ts), which the locked path runs too.
 * Hash collisions only serialise more than needed; they never let anything through.
 */
import type { EntityManager } from 'typeorm';

/** Lock keys for a participant's reciprocity facts in the given fields, sorted so lockers never deadlock. */
export function reciprocityLockKeys(participantId: string, fields: readonly string[]): string[] {
  return [...new Set(fields)].map((f) => `tds.reciprocity/${participantId}/${f}`).sort();
}

/** Take the (participant, field) locks inside tx; they are released when tx ends. */
export async function lockReciprocityFacts(tx: EntityManager, participantId: string, fields: readonly string[]): Promise<void> {
  const keys = reciprocityLockKeys(participantId, fields);
  if (keys.length === 0) return;
  // unnest keeps the array's (sorted) order, so the locks are taken in that order.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n)`, [keys]);
}
