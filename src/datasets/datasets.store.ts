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
 * Mark the dataset withdrawn, now, and on each of its contracts (the caller
 * holds the dataset's row lock and records dataset.withdrawn). The contracts'
 * flag is what a release in flight re-checks under its contract row lock
 * (migration ContractDatasetWithdrawn): this waits for such a release to
 * commit, and one that locks the row after this sees the withdrawal.
 */
export async function markWithdrawn(q: Queryable, id: string): Promise<void> {
  // Contracts first: withdrawn_at is then later than every job a release that was in flight inserted.
  await q.query(`UPDATE contracts SET dataset_withdrawn = true, updated_at = clock_timestamp() WHERE dataset_id = $1`, [id]);
  await q.query(`UPDATE datasets SET status = 'withdrawn', withdrawn_at = clock_timestamp() WHERE id = $1`, [id]);
}
