import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A job's contract, consumer, provider and dataset are one fact: the
 * contract's. The release statement copies them from the contract row it
 * counts, and one composite foreign key now says so:
 * jobs(contract_id, consumer_id, provider_id, dataset_id) references
 * contracts(id, consumer_id, provider_id, dataset_id). That is stricter than
 * the four single-column keys it replaces (a job can no longer name parties
 * other than its contract's) and the contract's own keys still reach
 * participants and datasets.
 *
 * Why: each of the four keys ran its own check per inserted job, and the
 * checks on participants and datasets took KEY SHARE row locks that every
 * concurrent release of the same consumer, provider or dataset shares, so
 * PostgreSQL built a multixact for nearly every job. The one remaining check
 * locks the contract row the release has already locked for its counter
 * UPDATE. `jobs_consumer_field` goes too: what a consumer received is kept in
 * reciprocity_received, no query reads jobs by (consumer, field) any more,
 * and jobs_consumer_list serves every read by consumer.
 */
export class BindJobsToContractParties1765260000000 implements MigrationInterface {
  name = 'BindJobsToContractParties1765260000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts ADD CONSTRAINT contracts_parties UNIQUE (id, consumer_id, provider_id, dataset_id)`);
    await q.query(`ALTER TABLE jobs
      DROP CONSTRAINT jobs_contract_id_fkey, DROP CONSTRAINT jobs_consumer_id_fkey,
      DROP CONSTRAINT jobs_provider_id_fkey, DROP CONSTRAINT jobs_dataset_id_fkey,
      ADD CONSTRAINT jobs_contract_parties_fkey FOREIGN KEY (contract_id, consumer_id, provider_id, dataset_id)
        REFERENCES contracts(id, consumer_id, provider_id, dataset_id)`);
    await q.query(`DROP INDEX jobs_consumer_field`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_consumer_field ON jobs(consumer_id, research_field)`);
    await q.query(`ALTER TABLE jobs
      DROP CONSTRAINT jobs_contract_parties_fkey,
      ADD CONSTRAINT jobs_contract_id_fkey FOREIGN KEY (contract_id) REFERENCES contracts(id),
      ADD CONSTRAINT jobs_consumer_id_fkey FOREIGN KEY (consumer_id) REFERENCES participants(id),
      ADD CONSTRAINT jobs_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES participants(id),
      ADD CONSTRAINT jobs_dataset_id_fkey FOREIGN KEY (dataset_id) REFERENCES datasets(id)`);
    await q.query(`ALTER TABLE contracts DROP CONSTRAINT contracts_parties`);
  }
}
