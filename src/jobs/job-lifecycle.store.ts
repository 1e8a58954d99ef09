/**
 * SQL of the download-job lifecycle after the release: the consumer's
 * failure report, the gateway's confirmation that a release was asked about,
 * and the sweep of releases whose token ran out unused.
 */
import type { EntityManager } from 'typeorm';

/** Seconds after a release token's exp before the sweep calls it unused (covers the gateway's clock tolerance). */
export const EXPIRY_GRACE_S = 60;

/** Most jobs one sweep marks expired (the rest wait for the next tick). */
export const EXPIRY_BATCH = 500;

/** A job row as the lifecycle needs it. */
export interface LifecycleJobRow {
  id: string;
  contract_id: string;
  dataset_id: string;
  provider_id: string;
  consumer_id: string;
  state: string;
  access: 'compute' | 'download';
  release_confirmed_at: Date | null;
  release_expires_at: string | null;
}

const COLUMNS = `id, contract_id, dataset_id, provider_id, consumer_id, state, access, release_confirmed_at, release->>'expiresAt' AS release_expires_at`;

/** The job, row-locked for the rest of the transaction; null when there is none. */
export async function lockJob(tx: EntityManager, id: string): Promise<LifecycleJobRow | null> {
  const rows = (await tx.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE`, [id])) as LifecycleJobRow[];
  return rows[0] ?? null;
}

/** authorized -> failed with the consumer's reason. */
export async function markFailed(tx: EntityManager, id: string, reason: string): Promise<void> {
  await tx.query(`UPDATE jobs SET state = 'failed', reason = $2 WHERE id = $1 AND state = 'authorized'`, [id, reason]);
}

/**
 * Record that the provider's gateway was told the release stands (first time only). False when the job is
 * no longer `authorized` (failed or expired: the gateway must not serve it). The row lock orders this against
 * the sweep and against a failure report.
 */
export async function confirmRelease(q: Pick<EntityManager, 'query'>, id: string): Promise<{ state: string } | null> {
  const updated = (await q.query(
    `UPDATE jobs SET release_confirmed_at = coalesce(release_confirmed_at, clock_timestamp())
      WHERE id = $1 AND state = 'authorized' AND access = 'download' RETURNING state`,
    [id],
  )) as [Array<{ state: string }>, number];
  // TypeORM answers an UPDATE ... RETURNING as [rows, count] on PostgreSQL.
  return updated[0][0] ?? null;
}

/**
 * Mark expired the download releases still `authorized` whose token ran out (plus the grace) and that the
 * provider's gateway never asked about; answers the rows changed, oldest first.
 */
export async function expireUnconfirmedReleases(tx: EntityManager): Promise<LifecycleJobRow[]> {
  const rows = (await tx.query(
    `UPDATE jobs SET state = 'expired', reason = 'RELEASE_EXPIRED'
      WHERE id IN (SELECT id FROM jobs
                    WHERE state = 'authorized' AND access = 'download' AND release_confirmed_at IS NULL
                      AND (release->>'expiresAt')::timestamptz + make_interval(secs => $1) < now()
                    ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [EXPIRY_GRACE_S, EXPIRY_BATCH],
  )) as [LifecycleJobRow[], number];
  return rows[0];
}
