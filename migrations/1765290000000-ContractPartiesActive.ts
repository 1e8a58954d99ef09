import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether both parties of a contract are active, recorded on the contract
 * row, for the reason dataset_withdrawn is (migration
 * ContractDatasetWithdrawn): a release re-checks its locked contract row
 * against a concurrent commit, not the participants it reads through a
 * subquery, so a suspension written on the row stops releases in flight.
 */
export class ContractPartiesActive1765290000000 implements MigrationInterface {
  name = 'ContractPartiesActive1765290000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts ADD COLUMN parties_active boolean NOT NULL DEFAULT true`);
    await q.query(`UPDATE contracts c SET parties_active = false
                    WHERE EXISTS (SELECT 1 FROM participants p WHERE p.id IN (c.consumer_id, c.provider_id) AND p.status <> 'active')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts DROP COLUMN parties_active`);
  }
}
