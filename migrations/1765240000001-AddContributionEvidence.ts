import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence that a contributed dataset is real, for reciprocity: the SHA-256
 * a download job's consumer computed over the bytes it received (reported at
 * completion), and when the provider's own data node attested that its file
 * matches the published digest. A partial index finds the completed jobs of
 * a dataset for the facts read.
 */
export class AddContributionEvidence1765240000001 implements MigrationInterface {
  name = 'AddContributionEvidence1765240000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN dataset_sha256 text CHECK (dataset_sha256 ~ '^[0-9a-f]{64}$')`);
    await q.query(`ALTER TABLE datasets ADD COLUMN attested_at timestamptz`);
    await q.query(`CREATE INDEX jobs_dataset_completed ON jobs(dataset_id) WHERE state = 'completed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_dataset_completed`);
    await q.query(`ALTER TABLE datasets DROP COLUMN attested_at`);
    await q.query(`ALTER TABLE jobs DROP COLUMN dataset_sha256`);
  }
}
