import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Witness cosignatures of ledger checkpoints: one row per (tree size,
 * witness), the verified tlog-cosignature/v1 signature line as the witness
 * returned it, and the witness's timestamp. GET /v1/ledger/checkpoint appends
 * the lines of its size to the signed note. Append-only like the checkpoints
 * they cosign. No foreign key to ledger_checkpoints: it would make TRUNCATE of
 * the checkpoints fail on the key rather than on the append-only trigger.
 */
export class CreateLedgerCosignatures1765030000001 implements MigrationInterface {
  name = 'CreateLedgerCosignatures1765030000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ledger_cosignatures (
      tree_size bigint NOT NULL,
      witness text NOT NULL,
      signature text NOT NULL CHECK (signature LIKE '— %' AND position(E'\\n' IN signature) = 0),
      cosigned_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (tree_size, witness)
    )`);
    await q.query(`CREATE INDEX ledger_cosignatures_by_witness ON ledger_cosignatures (witness, tree_size)`);
    await q.query(`CREATE TRIGGER ledger_cosignatures_append_only BEFORE UPDATE OR DELETE ON ledger_cosignatures FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await q.query(`CREATE TRIGGER ledger_cosignatures_no_truncate BEFORE TRUNCATE ON ledger_cosignatures FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_cosignatures`);
  }
}
