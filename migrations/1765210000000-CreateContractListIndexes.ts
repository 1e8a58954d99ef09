import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The contract list (GET /v1/contracts): keyset pagination over
 * (created_at, id), per provider, per consumer, and space-wide for the
 * operator and auditors. created_at becomes millisecond precision, as the
 * jobs' did: keyset cursors carry JavaScript Dates, which have no
 * microseconds, so a cursor must equal the stored value exactly.
 */
export class CreateContractListIndexes1765210000000 implements MigrationInterface {
  name = 'CreateContractListIndexes1765210000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts ALTER COLUMN created_at TYPE timestamptz(3)`);
    await q.query(`CREATE INDEX contracts_provider_list ON contracts(provider_id, created_at, id)`);
    await q.query(`CREATE INDEX contracts_consumer_list ON contracts(consumer_id, created_at, id)`);
    await q.query(`CREATE INDEX contracts_list ON contracts(created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX contracts_list`);
    await q.query(`DROP INDEX contracts_consumer_list`);
    await q.query(`DROP INDEX contracts_provider_list`);
    await q.query(`ALTER TABLE contracts ALTER COLUMN created_at TYPE timestamptz`);
  }
}
