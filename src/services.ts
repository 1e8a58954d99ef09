/**
 * Construction of every capability service from the data source, config and
 * service keys: one place, shared by main.ts, the tests and the benchmark.
 * Background work is started by the caller (src/background.ts), so this
 * module and background.ts do not import each other.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ServiceKeys } from './service-keys.js';
import { ParticipantsService } from './participants/participants.service.js';
import { ParticipantEntity } from './participants/participant.entity.js';
import { ParticipantKeyEntity } from './participants/participant-key.entity.js';
import { DatasetsService } from './datasets/datasets.service.js';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { ReciprocityService } from './reciprocity/reciprocity.service.js';
import { OffersService } from './agreements/offers.service.js';
import { ContractsService } from './agreements/contracts.service.js';
import { OfferEntity } from './agreements/offer.entity.js';
import { ContractEntity } from './agreements/contract.entity.js';
import { ContractDocumentEntity } from './agreements/contract-document.entity.js';
import { ContractSignatureEntity } from './agreements/contract-signature.entity.js';
import { JobsService } from './jobs/jobs.service.js';
import { JobLifecycleService } from './jobs/job-lifecycle.service.js';
import { ComputeJobsService } from './jobs/compute-jobs.service.js';
import { ReviewsService } from './jobs/reviews.service.js';
import { JobEntity } from './jobs/job.entity.js';
import { LedgerService } from './ledger/ledger.service.js';
import { SettlementsService, StatementsService } from './statements/statements.service.js';
import { WitnessingService } from './ledger/witnessing.service.js';
import { ReceiptService } from './ledger/receipt.service.js';

/** Every TypeORM entity, for the data source. */
export const entities = [ParticipantEntity, ParticipantKeyEntity, DatasetEntity, OfferEntity, ContractEntity, ContractDocumentEntity, ContractSignatureEntity, JobEntity];

/** The services of one process. */
export interface Services {
  participants: ParticipantsService;
  datasets: DatasetsService;
  reciprocity: ReciprocityService;
  offers: OffersService;
  contracts: ContractsService;
  jobs: JobsService;
  /** Download jobs after the release: failure reports and the expiry sweep. */
  jobLifecycle: JobLifecycleService;
  /** Compute jobs after submission: list, claim with lease, signed results. */
  computeJobs: ComputeJobsService;
  /** Output review of held compute results. */
  reviews: ReviewsService;
  ledger: LedgerService;
  statements: StatementsService;
  settlements: SettlementsService;
  /** Submits new checkpoints to the witnesses of TDS_WITNESSES and stores their cosignatures. */
  witnessing: WitnessingService;
  /** Receipts (tlog-proofs) of job releases. */
  receipts: ReceiptService;
}

/** Build the services. */
export function createServices(ds: DataSource, config: Config, keys: ServiceKeys, logger?: Logger): Services {
  const participants = new ParticipantsService(ds, config.maxPendingParticipants);
  const datasets = new DatasetsService(ds, config.devMode);
  const reciprocity = new ReciprocityService(ds);
  const offers = new OffersService(ds, datasets, reciprocity);
  const contracts = new ContractsService(ds, participants, datasets, reciprocity, config.audience);
  const jobs = new JobsService(ds, reciprocity, keys.release, config.audience, logger);
  const computeJobs = new ComputeJobsService(ds, config.jobLeaseSeconds);
  const reviews = new ReviewsService(ds);
  const ledger = new LedgerService(ds, { origin: config.ledgerOrigin, key: keys.ledger, witnessCount: config.witnesses.length });
  const witnessing = new WitnessingService(ds, ledger, config.witnesses);
  return {
    participants, datasets, reciprocity, offers, contracts, jobs, computeJobs, reviews, ledger, witnessing,
    jobLifecycle: new JobLifecycleService(ds),
    receipts: new ReceiptService(ds, ledger),
    statements: new StatementsService(ds, ledger, keys.ledger),
    settlements: new SettlementsService(ds, ledger),
  };
}
