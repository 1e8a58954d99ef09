import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issued statements (POST /v1/statements): the signed tds.statement.v1
 * document exactly as issued (its RFC 8785 text, digest and ledger-key
 * signature), kept so GET /v1/statements/:id returns the same bytes. Rows
 * never change: the same append-only triggers as the ledger tables.
 */
export class CreateStatements1765040000000 implements MigrationInterface {
  name = 'CreateStatements1765040000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE statements (
      id uuid PRIMARY KEY,
      party_id uuid NOT NULL REFERENCES participants(id),
      role text NOT NULL CHECK (role IN ('provider', 'consumer')),
      period_from timestamptz NOT NULL,
      period_to timestamptz NOT NULL CHECK (period_to > period_from),
      tree_size bigint NOT NULL CHECK (tree_size >= 0),
      canonical text NOT NULL,
      digest text NOT NULL,
      signature text NOT NULL,
      issued_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX statements_party ON statements (party_id, period_from)`);
    await q.query(`CREATE TRIGGER statements_append_only BEFORE UPDATE OR DELETE ON statements FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await q.query(`CREATE TRIGGER statements_no_truncate BEFORE TRUNCATE ON statements FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE statements`);
  }
}
