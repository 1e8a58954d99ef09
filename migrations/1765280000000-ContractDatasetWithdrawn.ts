import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dataset's withdrawal recorded on each of its contracts. A release checks
 * its contract row under the row's lock, and PostgreSQL re-checks a locked
 * row's own columns against the version a concurrent transaction committed;
 * the dataset's status, read through a subquery, it sees as of the
 * statement's start. With the flag on the contract row, a withdrawal and a
 * release in flight are serialised on that row: the release committed
 * before the withdrawal, or it sees the withdrawal and releases nothing.
 */
export class ContractDatasetWithdrawn1765280000000 implements MigrationInterface {
  name = 'ContractDatasetWithdrawn1765280000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts ADD COLUMN dataset_withdrawn boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE contracts c SET dataset_withdrawn = true FROM datasets d WHERE d.id = c.dataset_id AND d.status = 'withdrawn'`);
    // No index on contracts(dataset_id) for the withdrawal's UPDATE (a rare operation, which scans): with one,
    // PostgreSQL's CPU per authorized job rose from 0.20 to 0.54 ms in the benchmark's layout cell
    // (npm run bench -- --matrix --matrix-workers 1 --matrix-pools 5 --matrix-rounds 1), 2,294-2,646 -> 1,439-1,588 jobs/s.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts DROP COLUMN dataset_withdrawn`);
  }
}
