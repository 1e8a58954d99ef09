import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit ledger. Request transactions insert events into ledger_queue; the
 * single sequencer moves them, in order, into ledger_entries (index, leaf and
 * chain hash), stores the new perfect Merkle nodes, and signs checkpoints.
 * Entries, nodes and checkpoints are append-only: a trigger refuses UPDATE,
 * DELETE and TRUNCATE.
 */
export class CreateLedger1764000002000 implements MigrationInterface {
  name = 'CreateLedger1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ledger_queue (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor text NOT NULL,
      subjects jsonb NOT NULL,
      data jsonb NOT NULL
    )`);
    await q.query(`CREATE TABLE ledger_entries (
      idx bigint PRIMARY KEY CHECK (idx >= 0),
      kind text NOT NULL,
      entry text NOT NULL,
      leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
      chain_hash bytea NOT NULL CHECK (length(chain_hash) = 32),
      subjects jsonb NOT NULL,
      integrated_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    await q.query(`CREATE INDEX ledger_entries_kind ON ledger_entries(kind)`);
    await q.query(`CREATE INDEX ledger_entries_subjects ON ledger_entries USING gin (subjects jsonb_path_ops)`);
    await q.query(`CREATE TABLE ledger_nodes (
      level smallint NOT NULL CHECK (level >= 0),
      idx bigint NOT NULL CHECK (idx >= 0),
      hash bytea NOT NULL CHECK (length(hash) = 32),
      PRIMARY KEY (level, idx)
    )`);
    await q.query(`CREATE TABLE ledger_checkpoints (
      tree_size bigint PRIMARY KEY,
      root_hash bytea NOT NULL,
      note text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    await q.query(`CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const t of ['ledger_entries', 'ledger_nodes', 'ledger_checkpoints']) {
      await q.query(`CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
      await q.query(`CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['ledger_checkpoints', 'ledger_nodes', 'ledger_entries', 'ledger_queue']) await q.query(`DROP TABLE ${t}`);
    await q.query(`DROP FUNCTION ledger_refuse_change()`);
  }
}
