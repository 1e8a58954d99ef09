import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rule list (GET /v1/reciprocity-rules) is keyset-paginated over
 * (created_at, id) like the other lists: created_at becomes millisecond
 * precision, since cursors carry JavaScript Dates, which have no
 * microseconds, and a cursor must equal the stored value exactly.
 */
export class RuleListPrecision1765270000000 implements MigrationInterface {
  name = 'RuleListPrecision1765270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reciprocity_rules ALTER COLUMN created_at TYPE timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reciprocity_rules ALTER COLUMN created_at TYPE timestamptz`);
  }
}
