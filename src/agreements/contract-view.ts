/**
 * A contract as the API shows it (GET /v1/contracts/:id, the answers of
 * propose, sign and revoke) and as GET /v1/contracts lists it: one
 * declaration for the service, which builds them (contracts.service.ts), and
 * the CLI and the console, which read them. Types only.
 */
import type { ContractDocument } from './contract-document.js';

/** Contract lifecycle (SPEC): proposed -> consumer_signed -> active -> exhausted | expired | revoked. */
export type ContractState = 'proposed' | 'consumer_signed' | 'active' | 'exhausted' | 'expired' | 'revoked';

/** A contract as the API shows it. */
export interface ContractView {
  id: string;
  state: ContractState;
  document: ContractDocument;
  canonical: string;
  digest: string;
  signatures: Array<{ participantId: string; party: 'consumer' | 'provider'; kid: string; signature: string; signedAt: string }>;
  invocationsUsed: number;
  invocationsRemaining: number;
  revokeReason: string | null;
}

/** A contract in a list: its terms and counters, with the dataset's title and both parties' names. */
export interface ContractSummary {
  id: string;
  state: ContractState;
  access: 'compute' | 'download';
  digest: string;
  offerId: string;
  datasetId: string;
  datasetTitle: string;
  providerId: string;
  consumerId: string;
  provider: { id: string; name: string };
  consumer: { id: string; name: string };
  purposes: string[];
  maxInvocations: number;
  invocationsUsed: number;
  invocationsRemaining: number;
  validFrom: string;
  validUntil: string;
  createdAt: string;
}
