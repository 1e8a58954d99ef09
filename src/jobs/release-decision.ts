/**
 * The release decision, in one place: which checks a job request goes
 * through, in which order, which code each refusal carries, and which
 * refusals are written to the ledger as `job.denied` (and under whose name).
 * Pure: the service reads the facts (contract, parties, dataset, database
 * time, the reciprocity verdict) and acts on the answer; the atomic release
 * statement re-checks the stateful facts in its WHERE clause, so a decision
 * made on facts that changed a moment later cannot release anything.
 *
 * Check order (the first failing check decides):
 *   1. the requester is the contract's consumer       FORBIDDEN
 *   2. both parties active                            PARTICIPANT_SUSPENDED
 *   3. contract revoked / expired / exhausted / not active yet
 *   4. dataset not withdrawn                          DATASET_WITHDRAWN
 *   5. purpose allowed by the contract's purposes     PURPOSE_NOT_ALLOWED
 *   6. reciprocity rules hold (evaluated inside the release transaction,
 *      serialised per requester and research field)  RECIPROCITY_UNMET
 */
import type { ErrorCode } from '../errors.js';
import type { ContractState } from '../agreements/contract.entity.js';
import { defaultVocabulary, isPurposeAllowed } from '../agreements/purpose-match.js';
import { describeRefusal, type ReciprocityDecision } from '../reciprocity/evaluate-rules.js';


/** What the decision needs to know about the contract, read at the database's time `now`. */
export interface ReleaseCheckFacts {
  consumerId: string;
  activeParties: number;
  state: ContractState;
  validFrom: Date;
  validUntil: Date;
  invocationsUsed: number;
  maxInvocations: number;
  datasetStatus: 'published' | 'withdrawn';
  purposes: string[];
  now: Date;
}

/**
 * Whose ledger trail a refusal goes into: `parties` = job.denied under the
 * contract (the requester is its consumer); `requester` = job.denied naming
 * only the requester (a non-party must not write into the parties' trail);
 * `none` = not recorded (nothing about the contract's substance was decided).
 */
export type DenialRecording = 'parties' | 'requester' | 'none';

/** A refusal: its stable code, a human detail and how it is recorded. */
export interface ReleaseDenial {
  code: ErrorCode;
  detail: string;
  recording: DenialRecording;
}

const RECORDED_UNDER_PARTIES = new Set<ErrorCode>([
  'CONTRACT_EXHAUSTED', 'CONTRACT_EXPIRED', 'CONTRACT_NOT_ACTIVE', 'CONTRACT_REVOKED', 'PURPOSE_NOT_ALLOWED',
  'RECIPROCITY_UNMET', 'DATASET_WITHDRAWN', 'PARTICIPANT_SUSPENDED',
]);

/** How a refusal with this code is recorded in the ledger. */
export function denialRecording(code: ErrorCode): DenialRecording {
  if (code === 'FORBIDDEN') return 'requester';
  return RECORDED_UNDER_PARTIES.has(code) ? 'parties' : 'none';
}

/** The contract's own state at `now`: revoked, expired, exhausted, not yet active, or null when it may release. */
export function contractDenial(c: { state: ContractState; validFrom: Date; validUntil: Date; invocationsUsed: number; maxInvocations: number }, now: Date): ErrorCode | null {
  if (c.state === 'revoked') return 'CONTRACT_REVOKED';
  if (c.state === 'expired' || (c.state === 'active' && now >= c.validUntil)) return 'CONTRACT_EXPIRED';
  if (c.state === 'exhausted' || (c.state === 'active' && c.invocationsUsed >= c.maxInvocations)) return 'CONTRACT_EXHAUSTED';
  if (c.state !== 'active' || now < c.validFrom) return 'CONTRACT_NOT_ACTIVE';
  return null;
}

function denial(code: ErrorCode, detail: string): ReleaseDenial {
  return { code, detail, recording: denialRecording(code) };
}

/** The state checks (2-4) alone: used again on fresh facts to say why a release statement counted nothing. */
export function stateDenial(f: ReleaseCheckFacts): ReleaseDenial | null {
  if (f.activeParties !== 2) return denial('PARTICIPANT_SUSPENDED', 'the contract cannot release: a party is not active');
  const c = contractDenial(f, f.now);
  if (c) return denial(c, `the contract cannot release: ${c.toLowerCase().replace(/_/g, ' ')}`);
  if (f.datasetStatus === 'withdrawn') return denial('DATASET_WITHDRAWN', 'the contract cannot release: dataset withdrawn');
  return null;
}

/** Checks 1-5 for a request by `requesterId` for `purpose`; null when reciprocity is all that is left to check. */
export function checkRelease(f: ReleaseCheckFacts, requesterId: string, purpose: string): ReleaseDenial | null {
  if (f.consumerId !== requesterId) return denial('FORBIDDEN', 'only the contract\'s consumer can run jobs on it');
  const s = stateDenial(f);
  if (s) return s;
  if (!isPurposeAllowed(defaultVocabulary(), purpose, f.purposes)) {
    return denial('PURPOSE_NOT_ALLOWED', `purpose ${purpose} is not allowed by the contract (${f.purposes.join(', ')})`);
  }
  return null;
}

/** Check 6: the reciprocity verdict as a refusal, or null when every rule holds. */
export function reciprocityDenial(decision: ReciprocityDecision): ReleaseDenial | null {
  return decision.allowed ? null : denial('RECIPROCITY_UNMET', describeRefusal(decision));
}

/**
 * May a release that was already authorized still be downloaded (and an idempotent retry hand back its
 * token)? Revocation, withdrawal and suspension stop it at once; expiry and exhaustion do not, because
 * the invocation was counted inside the window. Null when it may.
 */
export function releaseStillValid(f: Pick<ReleaseCheckFacts, 'activeParties' | 'state' | 'datasetStatus'>): ReleaseDenial | null {
  if (f.state === 'revoked') return denial('CONTRACT_REVOKED', 'the contract was revoked after this release');
  if (f.datasetStatus === 'withdrawn') return denial('DATASET_WITHDRAWN', 'the dataset was withdrawn after this release');
  if (f.activeParties !== 2) return denial('PARTICIPANT_SUSPENDED', 'a party of the contract is no longer active');
  return null;
}

/**
 * Why a compute job's result may no longer leave, or null: revocation and
 * withdrawal stop every further release at once, so a result that arrives,
 * or a review that would release it, after either is refused its release.
 * Used at claim, at result submission and at the releasing review.
 */
export function computeReleaseStop(contractState: string, datasetStatus: string): 'CONTRACT_REVOKED' | 'DATASET_WITHDRAWN' | null {
  if (contractState === 'revoked') return 'CONTRACT_REVOKED';
  return datasetStatus === 'withdrawn' ? 'DATASET_WITHDRAWN' : null;
}
