/**
 * The SQL of witness cosignatures and of the checkpoint the API serves. The
 * served checkpoint is the newest one every configured witness has cosigned,
 * unless that is older than a grace period behind the newest (a slow or dead
 * witness then delays nothing beyond the grace: the newest checkpoint is
 * served with whatever cosignatures it has).
 */
import type { Queryable } from './ledger-store.js';

/** A stored checkpoint with the cosignature lines gathered for its size. */
export interface CheckpointRow {
  size: number;
  rootHash: Uint8Array;
  note: string;
  cosignatures: string[];
}

type Row = { size: string; root_hash: Uint8Array; note: string; cosigs: string[] | null };

const COLUMNS = `c.tree_size::text AS size, c.root_hash, c.note,
  (SELECT array_agg(s.signature ORDER BY s.witness) FROM ledger_cosignatures s WHERE s.tree_size = c.tree_size) AS cosigs`;

const toView = (r: Row): CheckpointRow => ({ size: Number(r.size), rootHash: new Uint8Array(r.root_hash), note: r.note, cosignatures: r.cosigs ?? [] });

/** The newest checkpoint with all `witnessCount` cosignatures, or older than `graceMs`; else the newest; null when none exists. */
export async function readServedCheckpoint(q: Queryable, witnessCount: number, graceMs: number): Promise<CheckpointRow | null> {
  if (witnessCount > 0) {
    const rows = (await q.query(
      `SELECT ${COLUMNS} FROM ledger_checkpoints c
       WHERE c.created_at < clock_timestamp() - make_interval(secs => $2::float8 / 1000)
          OR (SELECT count(*) FROM ledger_cosignatures s WHERE s.tree_size = c.tree_size) >= $1
       ORDER BY c.tree_size DESC LIMIT 1`,
      [witnessCount, graceMs],
    )) as Row[];
    if (rows.length > 0) return toView(rows[0]);
  }
  const rows = (await q.query(`SELECT ${COLUMNS} FROM ledger_checkpoints c ORDER BY c.tree_size DESC LIMIT 1`)) as Row[];
  return rows.length > 0 ? toView(rows[0]) : null;
}

/** The newest signed checkpoint (log signature only): what is submitted to witnesses. */
export async function readNewestCheckpoint(q: Queryable): Promise<{ size: number; note: string } | null> {
  const rows = (await q.query('SELECT tree_size::text AS size, note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1')) as Array<{ size: string; note: string }>;
  return rows.length > 0 ? { size: Number(rows[0].size), note: rows[0].note } : null;
}

/** The largest size `witness` has cosigned according to our records (0 when none). */
export async function readLastCosignedSize(q: Queryable, witness: string): Promise<number> {
  const [row] = (await q.query('SELECT coalesce(max(tree_size), 0)::text AS size FROM ledger_cosignatures WHERE witness = $1', [witness])) as Array<{ size: string }>;
  return Number(row.size);
}

/** Stores a verified cosignature line (without its newline); a second one for the same size and witness is ignored. */
export async function insertCosignature(q: Queryable, size: number, witness: string, line: string, timestamp: number): Promise<void> {
  await q.query('INSERT INTO ledger_cosignatures (tree_size, witness, signature, cosigned_at) VALUES ($1, $2, $3, to_timestamp($4)) ON CONFLICT DO NOTHING', [size, witness, line, timestamp]);
}
