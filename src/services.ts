/**
 * Construction of every capability service from the data source, config and
 * service keys: one place, shared by main.ts, the tests and the benchmark.
 */
import type { DataSource } from 'typeorm';
import type { Config } from './config.js';
import type { ServiceKeys } from './service-keys.js';
import { ParticipantsService } from './participants/participants.service.js';
import { ParticipantEntity, ParticipantKeyEntity } from './participants/participant.entity.js';

/** Every TypeORM entity, for the data source. */
export const entities = [ParticipantEntity, ParticipantKeyEntity];

/** The services of one process. */
export interface Services {
  participants: ParticipantsService;
  /** Start background work (ledger sequencer, checkpointer, clean-up); returns its stopper. */
  startBackground?(logger: import('pino').Logger): { stop(): Promise<void> };
}

/** Build the services. */
export function createServices(ds: DataSource, _config: Config, _keys: ServiceKeys): Services {
  return { participants: new ParticipantsService(ds) };
}
