import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a release under reciprocity rules checks at commit, without locks held
 * across round trips:
 * - `reciprocity_received`: per (participant, research field, dataset kind)
 *   how many releases of others' datasets it received, kept by the release
 *   statement itself (every release adds one in the statement that inserts
 *   its job), so the count is exact and read in O(1); a release under
 *   give-to-get aborts if its increment passes the limit its decision allowed.
 * - `reciprocity_versions`: per (participant, research field) a version bumped
 *   by every change that can make a rule less permissive (a withdrawal of its
 *   dataset); created with the participant's first dataset in the field. A
 *   release decided on version v commits only while it is still v (checked
 *   with a share lock in the release statement).
 * Both start from what the tables hold.
 */
export class CreateReciprocityVersions1765250000000 implements MigrationInterface {
  name = 'CreateReciprocityVersions1765250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE reciprocity_received (
      participant_id uuid NOT NULL REFERENCES participants(id),
      research_field text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('raw', 'insight')),
      received bigint NOT NULL CHECK (received >= 0),
      PRIMARY KEY (participant_id, research_field, kind))`);
    await q.query(`INSERT INTO reciprocity_received (participant_id, research_field, kind, received)
      SELECT j.consumer_id, j.research_field, d.kind, count(*) FROM jobs j JOIN datasets d ON d.id = j.dataset_id
       WHERE j.provider_id <> j.consumer_id GROUP BY 1, 2, 3`);
    await q.query(`CREATE TABLE reciprocity_versions (
      participant_id uuid NOT NULL REFERENCES participants(id),
      research_field text NOT NULL,
      version bigint NOT NULL CHECK (version > 0),
      PRIMARY KEY (participant_id, research_field))`);
    await q.query(`INSERT INTO reciprocity_versions (participant_id, research_field, version)
      SELECT DISTINCT provider_id, research_field, 1 FROM datasets`);
    // The release statement's refusal when a give-to-get limit was passed under concurrency: the whole statement
    // (and its implicit transaction) aborts with this SQLSTATE, nothing written, and the caller decides again.
    await q.query(`CREATE FUNCTION tds_reciprocity_limit_passed(received bigint, max_received bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION 'reciprocity limit passed: % received, at most %', received, max_received USING ERRCODE = 'TDS01';
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION tds_reciprocity_limit_passed(bigint, bigint)`);
    await q.query(`DROP TABLE reciprocity_versions`);
    await q.query(`DROP TABLE reciprocity_received`);
  }
}
