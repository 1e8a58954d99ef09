import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Participants, their keys (old keys kept to verify old signatures) and used token ids (replay refusal). */
export class CreateParticipants1764000000000 implements MigrationInterface {
  name = 'CreateParticipants1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE participants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      roles text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','provider','consumer','auditor']::text[]),
      status text NOT NULL CHECK (status IN ('pending','active','suspended')),
      organization text,
      contact text,
      -- millisecond precision: keyset cursors carry JavaScript Dates, which have no microseconds
      created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE participant_keys (
      kid text PRIMARY KEY,
      participant_id uuid NOT NULL REFERENCES participants(id),
      public_jwk jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      revoked_at timestamptz
    )`);
    // At most one current key per participant.
    await q.query(`CREATE UNIQUE INDEX participant_keys_one_current ON participant_keys(participant_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE TABLE used_tokens (
      issuer text NOT NULL,
      jti text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (issuer, jti)
    )`);
    await q.query(`CREATE INDEX used_tokens_expiry ON used_tokens(expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE used_tokens`);
    await q.query(`DROP TABLE participant_keys`);
    await q.query(`DROP TABLE participants`);
  }
}
