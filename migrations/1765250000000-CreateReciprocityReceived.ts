import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a release under reciprocity rules checks at commit, without locks held
 * across round trips: `reciprocity_received`, per (participant, research
 * field, dataset kind),
 * - `received`: how many releases of others' datasets it received, kept by
 *   the release statement itself (every release adds one in the statement
 *   that inserts its job), so the count is exact and read in O(1);
 * - `version`: bumped (in every kind of the field) by each change that can
 *   make a rule less permissive for it as a provider (a withdrawal of its
 *   dataset in the field).
 * A release under rules adds one to its row under that row's lock and aborts
 * (SQLSTATE TDS01, nothing written) if the count passes the give-to-get bound
 * its decision allowed or the version is not the one it decided on. The
 * counts start from what the jobs table holds.
 */
export class CreateReciprocityReceived1765250000000 implements MigrationInterface {
  name = 'CreateReciprocityReceived1765250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE reciprocity_received (
      participant_id uuid NOT NULL REFERENCES participants(id),
      research_field text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('raw', 'insight')),
      received bigint NOT NULL CHECK (received >= 0),
      version bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
      PRIMARY KEY (participant_id, research_field, kind))`);
    await q.query(`INSERT INTO reciprocity_received (participant_id, research_field, kind, received)
      SELECT j.consumer_id, j.research_field, d.kind, count(*) FROM jobs j JOIN datasets d ON d.id = j.dataset_id
       WHERE j.provider_id <> j.consumer_id GROUP BY 1, 2, 3`);
    // The release statement's refusal when what its decision saw changed under concurrency: the whole statement
    // (and its implicit transaction) aborts with this SQLSTATE, nothing written, and the caller decides again.
    await q.query(`CREATE FUNCTION tds_reciprocity_changed(received bigint, max_received bigint, version bigint, seen bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION 'reciprocity facts changed: % received (at most %), version % (decided on %)', received, max_received, version, seen USING ERRCODE = 'TDS01';
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION tds_reciprocity_changed(bigint, bigint, bigint, bigint)`);
    await q.query(`DROP TABLE reciprocity_received`);
  }
}
