import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Datasets, offers, reciprocity rules, signed contracts and compute jobs. */
export class CreateAgreements1764000001000 implements MigrationInterface {
  name = 'CreateAgreements1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE datasets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      provider_id uuid NOT NULL REFERENCES participants(id),
      title text NOT NULL,
      description text NOT NULL,
      research_field text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('raw','insight')),
      distribution jsonb NOT NULL,
      license text,
      schema jsonb,
      status text NOT NULL DEFAULT 'published' CHECK (status IN ('published','withdrawn')),
      -- millisecond precision: keyset cursors carry JavaScript Dates, which have no microseconds
      published_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
      withdrawn_at timestamptz
    )`);
    await q.query(`CREATE INDEX datasets_catalog ON datasets(published_at, id)`);
    await q.query(`CREATE INDEX datasets_field_kind ON datasets(research_field, kind)`);
    await q.query(`CREATE INDEX datasets_provider ON datasets(provider_id)`);
    await q.query(`CREATE TABLE reciprocity_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      scope text NOT NULL CHECK (scope IN ('space','offer')),
      kind text NOT NULL,
      research_field text NOT NULL,
      dataset_kind text NOT NULL CHECK (dataset_kind IN ('raw','insight')),
      body jsonb NOT NULL,
      created_by uuid NOT NULL REFERENCES participants(id),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    await q.query(`CREATE INDEX reciprocity_rules_scope ON reciprocity_rules(scope, research_field, dataset_kind)`);
    await q.query(`CREATE TABLE offers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      dataset_id uuid NOT NULL REFERENCES datasets(id),
      provider_id uuid NOT NULL REFERENCES participants(id),
      purposes text[] NOT NULL,
      max_invocations integer NOT NULL CHECK (max_invocations > 0),
      valid_from timestamptz NOT NULL,
      valid_until timestamptz NOT NULL,
      reciprocity_rule_ids uuid[] NOT NULL DEFAULT '{}',
      price_per_invocation numeric,
      currency text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','withdrawn')),
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CHECK (valid_until > valid_from)
    )`);
    await q.query(`CREATE INDEX offers_dataset ON offers(dataset_id)`);
    await q.query(`CREATE TABLE contracts (
      id uuid PRIMARY KEY,
      offer_id uuid NOT NULL REFERENCES offers(id),
      dataset_id uuid NOT NULL REFERENCES datasets(id),
      provider_id uuid NOT NULL REFERENCES participants(id),
      consumer_id uuid NOT NULL REFERENCES participants(id),
      state text NOT NULL CHECK (state IN ('proposed','consumer_signed','active','exhausted','expired','revoked')),
      purposes text[] NOT NULL,
      max_invocations integer NOT NULL CHECK (max_invocations > 0),
      invocations_used integer NOT NULL DEFAULT 0,
      valid_from timestamptz NOT NULL,
      valid_until timestamptz NOT NULL,
      revoke_reason text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      CHECK (invocations_used >= 0 AND invocations_used <= max_invocations)
    )`);
    await q.query(`CREATE INDEX contracts_consumer ON contracts(consumer_id)`);
    // The signed document lives apart from the counter row: every release rewrites
    // the contracts row, which stays small (measured: the document was ~1.5 kB of a 1.8 kB row).
    await q.query(`CREATE TABLE contract_documents (
      contract_id uuid PRIMARY KEY REFERENCES contracts(id),
      document jsonb NOT NULL,
      canonical text NOT NULL,
      digest text NOT NULL
    )`);
    await q.query(`CREATE INDEX contracts_provider ON contracts(provider_id)`);
    await q.query(`CREATE TABLE contract_signatures (
      contract_id uuid NOT NULL REFERENCES contracts(id),
      party text NOT NULL CHECK (party IN ('consumer','provider')),
      participant_id uuid NOT NULL REFERENCES participants(id),
      kid text NOT NULL REFERENCES participant_keys(kid),
      signature text NOT NULL,
      signed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (contract_id, party)
    )`);
    await q.query(`CREATE TABLE jobs (
      id uuid PRIMARY KEY,
      contract_id uuid NOT NULL REFERENCES contracts(id),
      consumer_id uuid NOT NULL REFERENCES participants(id),
      provider_id uuid NOT NULL REFERENCES participants(id),
      dataset_id uuid NOT NULL REFERENCES datasets(id),
      research_field text NOT NULL,
      purpose text NOT NULL,
      state text NOT NULL CHECK (state IN ('authorized','completed')),
      idempotency_key text,
      request_digest text,
      release jsonb NOT NULL,
      result_digest text,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      completed_at timestamptz
    )`);
    await q.query(`CREATE UNIQUE INDEX jobs_idempotency ON jobs(consumer_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX jobs_contract ON jobs(contract_id)`);
    await q.query(`CREATE INDEX jobs_consumer_field ON jobs(consumer_id, research_field)`);
    await q.query(`CREATE INDEX jobs_provider_field ON jobs(provider_id, research_field)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['jobs', 'contract_signatures', 'contract_documents', 'contracts', 'offers', 'reciprocity_rules', 'datasets']) await q.query(`DROP TABLE ${t}`);
  }
}
