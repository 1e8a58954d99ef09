/**
 * The datasets capability's raw SQL, as functions taking a transaction's
 * EntityManager (or the data source): what a plain entity read or write
 * cannot say, such as "set once, and tell me whether this call set it".
 */
import type { Queryable } from '../db/transaction.js';

/**
 * Record that the dataset's file was attested, unless it already was: the
 * time just written, or null when an earlier attestation stands (nothing written).
 */
export async function markAttested(q: Queryable, id: string): Promise<Date | null> {
  const rows = (await q.query(`UPDATE datasets SET attested_at = clock_timestamp() WHERE id = $1 AND attested_at IS NULL RETURNING attested_at`, [id])) as [Array<{ attested_at: Date }>, number] | Array<{ attested_at: Date }>;
  // TypeORM answers an UPDATE ... RETURNING as [rows, count] on PostgreSQL.
  const updated = Array.isArray(rows[0]) ? (rows[0] as Array<{ attested_at: Date }>) : (rows as Array<{ attested_at: Date }>);
  return updated[0]?.attested_at ?? null;
}

/** When the dataset was first attested (the caller knows it was). */
export async function attestedAt(q: Queryable, id: string): Promise<Date> {
  const [prior] = (await q.query('SELECT attested_at FROM datasets WHERE id = $1', [id])) as Array<{ attested_at: Date }>;
  return prior!.attested_at;
}

/**
 * Record a withdrawal on each of the dataset's contracts, taking their row
 * locks: this waits for every release in flight on them to commit, and a
 * release that locks a row after this re-checks the flag and releases nothing
 * (migration ContractDatasetWithdrawn). Called before the dataset's own row
 * lock: every path that locks both takes the contract first.
 */
export async function markContractsWithdrawn(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE contracts SET dataset_withdrawn = true, updated_at = clock_timestamp() WHERE dataset_id = $1`, [id]);
}

/** Mark the dataset withdrawn, now (the caller holds its row lock and records dataset.withdrawn). */
export async function markWithdrawn(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE datasets SET status = 'withdrawn', withdrawn_at = clock_timestamp() WHERE id = $1`, [id]);
}
