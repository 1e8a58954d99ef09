import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Compute at the data: offers say how their dataset is used (`access`) and
 * under which output policy; jobs on compute contracts carry their analysis,
 * move through queued -> running -> completed | held | rejected | failed with
 * a claim lease, and keep the provider-signed result and the reviewers'
 * signed votes. Participants may hold the new role `reviewer`.
 */
export class AddComputeToData1765010000000 implements MigrationInterface {
  name = 'AddComputeToData1765010000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE participants DROP CONSTRAINT participants_roles_check`);
    await q.query(`ALTER TABLE participants ADD CONSTRAINT participants_roles_check
      CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','provider','consumer','auditor','reviewer']::text[])`);
    await q.query(`ALTER TABLE offers ADD COLUMN access text NOT NULL DEFAULT 'download' CHECK (access IN ('compute','download'))`);
    await q.query(`ALTER TABLE offers ADD COLUMN output_policy jsonb`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_state_check`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
      CHECK (state IN ('authorized','completed','queued','running','held','rejected','failed'))`);
    // A compute job has no release token: nothing leaves but the checked result.
    await q.query(`ALTER TABLE jobs ALTER COLUMN release DROP NOT NULL`);
    // Millisecond precision: keyset cursors carry JavaScript Dates, which have no microseconds.
    await q.query(`ALTER TABLE jobs ALTER COLUMN created_at TYPE timestamptz(3)`);
    await q.query(`ALTER TABLE jobs
      ADD COLUMN access text NOT NULL DEFAULT 'download' CHECK (access IN ('compute','download')),
      ADD COLUMN analysis jsonb,
      ADD COLUMN analysis_digest text,
      ADD COLUMN lease_until timestamptz,
      ADD COLUMN claims integer NOT NULL DEFAULT 0,
      ADD COLUMN reason text,
      ADD CONSTRAINT jobs_compute_has_analysis CHECK ((access = 'compute') = (analysis IS NOT NULL))`);
    await q.query(`CREATE INDEX jobs_consumer_list ON jobs(consumer_id, created_at, id)`);
    await q.query(`CREATE INDEX jobs_provider_list ON jobs(provider_id, created_at, id)`);
    await q.query(`CREATE TABLE job_results (
      job_id uuid PRIMARY KEY REFERENCES jobs(id),
      canonical text NOT NULL,
      signature text NOT NULL,
      kid text NOT NULL REFERENCES participant_keys(kid),
      result_digest text NOT NULL,
      status text NOT NULL CHECK (status IN ('pass','review','fail')),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    await q.query(`CREATE TABLE job_reviews (
      job_id uuid NOT NULL REFERENCES jobs(id),
      reviewer_id uuid NOT NULL REFERENCES participants(id),
      kid text NOT NULL REFERENCES participant_keys(kid),
      result_digest text NOT NULL,
      decision text NOT NULL CHECK (decision IN ('approve','reject')),
      comment text,
      signature text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (job_id, reviewer_id)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_reviews`);
    await q.query(`DROP TABLE job_results`);
    await q.query(`DROP INDEX jobs_provider_list`);
    await q.query(`DROP INDEX jobs_consumer_list`);
    await q.query(`DELETE FROM jobs WHERE access = 'compute'`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_compute_has_analysis,
      DROP COLUMN reason, DROP COLUMN claims, DROP COLUMN lease_until, DROP COLUMN analysis_digest, DROP COLUMN analysis, DROP COLUMN access`);
    await q.query(`ALTER TABLE jobs ALTER COLUMN created_at TYPE timestamptz`);
    await q.query(`ALTER TABLE jobs ALTER COLUMN release SET NOT NULL`);
    await q.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_state_check`);
    await q.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('authorized','completed'))`);
    await q.query(`ALTER TABLE offers DROP COLUMN output_policy`);
    await q.query(`ALTER TABLE offers DROP COLUMN access`);
    await q.query(`ALTER TABLE participants DROP CONSTRAINT participants_roles_check`);
    await q.query(`ALTER TABLE participants ADD CONSTRAINT participants_roles_check
      CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','provider','consumer','auditor']::text[])`);
  }
}
