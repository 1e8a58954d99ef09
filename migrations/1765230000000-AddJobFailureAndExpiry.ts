import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Download jobs that did not run: the consumer reports `failed`
 * (POST /v1/jobs/:id/fail), and a sweep marks `expired` a release whose token
 * ran out without the provider's gateway ever asking about it.
 * `release_confirmed_at` is when the provider's gateway first asked
 * GET /v1/jobs/:id/release-status and was told the release stands (the
 * gateway asks just before serving): the service's only view of token use.
 * The partial index holds exactly what the sweep looks at.
 */
export class AddJobFailureAndExpiry1765230000000 implements MigrationInterface {
  name = 'AddJobFailureAndExpiry1765230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_state_check`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
      CHECK (state IN ('authorized','completed','queued','running','held','rejected','failed','expired'))`);
    await q.query(`ALTER TABLE jobs ADD COLUMN release_confirmed_at timestamptz`);
    await q.query(`CREATE INDEX jobs_unconfirmed_releases ON jobs(created_at)
      WHERE state = 'authorized' AND access = 'download' AND release_confirmed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_unconfirmed_releases`);
    await q.query(`ALTER TABLE jobs DROP COLUMN release_confirmed_at`);
    await q.query(`UPDATE jobs SET state = 'authorized' WHERE state = 'expired'`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_state_check`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
      CHECK (state IN ('authorized','completed','queued','running','held','rejected','failed'))`);
  }
}
