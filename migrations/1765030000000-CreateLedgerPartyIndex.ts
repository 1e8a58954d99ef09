import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Party views of the ledger (GET /v1/ledger/mine): one row per (participant,
 * entry) for every entry whose actor or one of whose subject values is that
 * participant's id. The sequencer fills it in the same statement that writes
 * the entries, so a party's page is an index range scan instead of a scan of
 * every entry. Existing entries are indexed here. Append-only like the other
 * ledger tables: it is derived from them and never changes.
 */
export class CreateLedgerPartyIndex1765030000000 implements MigrationInterface {
  name = 'CreateLedgerPartyIndex1765030000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ledger_party_index (
      participant_id uuid NOT NULL,
      idx bigint NOT NULL,
      PRIMARY KEY (participant_id, idx)
    )`);
    await q.query(`INSERT INTO ledger_party_index (participant_id, idx)
      SELECT DISTINCT p.id, e.idx
      FROM ledger_entries e
      CROSS JOIN LATERAL (SELECT e.entry::jsonb ->> 'actor' UNION SELECT value FROM jsonb_each_text(e.subjects)) v(pid)
      JOIN participants p ON p.id::text = v.pid`);
    await q.query(`CREATE TRIGGER ledger_party_index_append_only BEFORE UPDATE OR DELETE ON ledger_party_index FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()`);
    await q.query(`CREATE TRIGGER ledger_party_index_no_truncate BEFORE TRUNCATE ON ledger_party_index FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_party_index`);
  }
}
