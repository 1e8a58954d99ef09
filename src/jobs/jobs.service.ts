/**
 * Compute jobs: the release path. In one transaction every rule is checked
 * (participants, contract state and window, purpose, reciprocity, dataset),
 * the invocation is counted by one conditional UPDATE, the job is stored and
 * `job.authorized` is queued in the ledger: all of it commits or none.
 * A denial answers 403 with its code and is itself a (rate-limited) ledger event.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { DomainError, domainError, forbidden, notFound, type ErrorCode } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { isUuid } from '../ids.js';
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import type { ServiceKey } from '../service-keys.js';
import { ReciprocityService, ruleViewFromRow } from '../reciprocity/reciprocity.service.js';
import { preparedQuery } from '../db/prepared.js';
import { IDEMPOTENCY_INDEX, READ_RELEASE_FACTS, RELEASE, type ReleaseFacts } from './release-statements.js';
import { contractDenial } from '../agreements/contracts.service.js';
import { defaultVocabulary, isPurposeAllowed } from '../agreements/purpose-match.js';
import { JobEntity } from './job.entity.js';
import { signReleaseToken } from './release-token.js';
import { DenialLimiter } from './denial-limiter.js';

/** Body of a job request (already schema-checked). */
export interface JobRequest {
  contractId: string;
  purpose: string;
  description?: string;
}

/** A job as the API shows it; the release token only to its consumer. */
export interface JobView {
  id: string;
  state: 'authorized' | 'completed';
  contractId: string;
  datasetId: string;
  consumerId: string;
  providerId: string;
  purpose: string;
  release: { token?: string; url: string; sha256: string; byteSize: number; mediaType: string; expiresAt: string };
  resultDigest: string | null;
  createdAt: string;
  completedAt: string | null;
  invocationsUsed?: number;
  invocationsRemaining?: number;
}

/** Denial codes that are recorded as job.denied (refusals about the request's substance). */
const RECORDED_DENIALS = new Set<ErrorCode>([
  'CONTRACT_EXHAUSTED', 'CONTRACT_EXPIRED', 'CONTRACT_NOT_ACTIVE', 'CONTRACT_REVOKED', 'PURPOSE_NOT_ALLOWED',
  'RECIPROCITY_UNMET', 'DATASET_WITHDRAWN', 'PARTICIPANT_SUSPENDED', 'FORBIDDEN',
]);

// The idempotency key was taken by a concurrent request: the release statement failed whole.
class IdempotentReplay extends Error {}

/** Denial code of release facts (parties, contract state and window, dataset), or null. */
function releaseDenial(f: ReleaseFacts): ErrorCode | null {
  if (f.active_parties !== 2) return 'PARTICIPANT_SUSPENDED';
  const c = contractDenial({ state: f.state, validFrom: f.valid_from, validUntil: f.valid_until, invocationsUsed: f.invocations_used, maxInvocations: f.max_invocations }, f.now);
  if (c) return c;
  return f.dataset_status === 'withdrawn' ? 'DATASET_WITHDRAWN' : null;
}

function view(j: JobEntity, forConsumer: boolean, counts?: { used: number; remaining: number }): JobView {
  const { token, url, sha256: digest, byteSize, mediaType, expiresAt } = j.release;
  return {
    id: j.id,
    state: j.state,
    contractId: j.contractId,
    datasetId: j.datasetId,
    consumerId: j.consumerId,
    providerId: j.providerId,
    purpose: j.purpose,
    release: { ...(forConsumer ? { token } : {}), url, sha256: digest, byteSize, mediaType, expiresAt },
    resultDigest: j.resultDigest,
    createdAt: j.createdAt.toISOString(),
    completedAt: j.completedAt?.toISOString() ?? null,
    ...(counts ? { invocationsUsed: counts.used, invocationsRemaining: counts.remaining } : {}),
  };
}

/** Job authorization, release and completion. */
export class JobsService {
  private readonly limiter = new DenialLimiter();

  constructor(
    private readonly ds: DataSource,
    private readonly reciprocity: ReciprocityService,
    private readonly releaseKey: ServiceKey,
    private readonly issuer: string,
    private readonly logger?: Logger,
  ) {}

  /** Consumer: authorize a job and release the dataset to it. `replayed` is true for an idempotent retry. */
  async authorize(actor: Principal, req: JobRequest, idempotencyKey?: string): Promise<{ job: JobView; replayed: boolean }> {
    const requestDigest = toHex(sha256(utf8(canonicalize({ contractId: req.contractId, purpose: req.purpose }))));
    if (idempotencyKey) {
      const prior = await this.byIdempotencyKey(actor.participantId, idempotencyKey, requestDigest);
      if (prior) return { job: prior, replayed: true };
    }
    try {
      return { job: await this.release(actor, req, idempotencyKey, requestDigest), replayed: false };
    } catch (e) {
      if (e instanceof IdempotentReplay && idempotencyKey) {
        const prior = await this.byIdempotencyKey(actor.participantId, idempotencyKey, requestDigest);
        if (prior) return { job: prior, replayed: true };
      }
      if (e instanceof DomainError && RECORDED_DENIALS.has(e.code)) await this.recordDenial(actor, req, e);
      throw e;
    }
  }

  private async release(actor: Principal, req: JobRequest, idempotencyKey: string | undefined, requestDigest: string): Promise<JobView> {
    const f = await this.readFacts(req.contractId);
    if (f.consumer_id !== actor.participantId) throw forbidden('only the contract\'s consumer can run jobs on it');
    const denial = releaseDenial(f);
    if (denial) throw domainError(denial, `the contract cannot release: ${denial.toLowerCase().replace(/_/g, ' ')}`);
    if (!isPurposeAllowed(defaultVocabulary(), req.purpose, f.purposes)) {
      throw domainError('PURPOSE_NOT_ALLOWED', `purpose ${req.purpose} is not allowed by the contract (${f.purposes.join(', ')})`);
    }
    const rules = f.rules.map(ruleViewFromRow);
    const decision = await this.reciprocity.evaluate(this.ds.manager, actor.participantId, rules, 1);
    ReciprocityService.enforce(decision);

    const id = randomUUID();
    const { url, sha256: digest, byteSize, mediaType } = f.distribution;
    const signed = await signReleaseToken(this.releaseKey, this.issuer, { job: id, contract: f.id, dataset: f.dataset_id, sha256: digest, provider: f.provider_id, url });
    const release = { token: signed.token, url, sha256: digest, byteSize, mediaType, expiresAt: signed.expiresAt.toISOString(), jti: signed.jti };
    const subjects = { job: id, contract: f.id, dataset: f.dataset_id, provider: f.provider_id, consumer: actor.participantId };
    const data = {
      purpose: req.purpose,
      sha256: digest,
      releaseJti: signed.jti,
      releaseExpiresAt: release.expiresAt,
      reciprocity: decision.outcomes.map((o) => ({ ruleId: o.ruleId, kind: o.kind, holds: o.holds, evidence: o.evidence })),
    };
    let rows: Array<{ invocations_used: number; max_invocations: number; created_at: Date }>;
    try {
      rows = await preparedQuery(this.ds, 'tds_release', RELEASE, [
        f.id, actor.participantId, id, f.research_field, req.purpose, idempotencyKey ?? null, requestDigest,
        JSON.stringify(release), JSON.stringify(subjects), JSON.stringify(data),
      ]);
    } catch (e) {
      const pgErr = e as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
      const code = pgErr.driverError?.code ?? pgErr.code;
      const constraint = pgErr.driverError?.constraint ?? pgErr.constraint;
      if (code === '23505' && constraint === IDEMPOTENCY_INDEX) throw new IdempotentReplay();
      throw e;
    }
    const counted = rows[0];
    if (!counted) {
      // Lost the race for the last invocations, or something changed since the read: say why, from fresh facts.
      const code = releaseDenial(await this.readFacts(req.contractId)) ?? 'CONTRACT_EXHAUSTED';
      throw domainError(code, `the contract cannot release: ${code.toLowerCase().replace(/_/g, ' ')}`);
    }
    // Built from what was just written: no re-read.
    const job = Object.assign(new JobEntity(), {
      id, contractId: f.id, consumerId: actor.participantId, providerId: f.provider_id, datasetId: f.dataset_id, researchField: f.research_field,
      purpose: req.purpose, state: 'authorized' as const, idempotencyKey: idempotencyKey ?? null, requestDigest, resultDigest: null, completedAt: null,
      createdAt: counted.created_at, release,
    });
    return view(job, true, { used: counted.invocations_used, remaining: counted.max_invocations - counted.invocations_used });
  }

  private async readFacts(contractId: string): Promise<ReleaseFacts> {
    // contractId comes from the body: its schema's uuid format also admits a urn:uuid: prefix PostgreSQL refuses.
    const rows = isUuid(contractId) ? await preparedQuery<ReleaseFacts>(this.ds, 'tds_release_facts', READ_RELEASE_FACTS, [contractId]) : [];
    if (!rows[0]) throw notFound('contract', contractId);
    return rows[0];
  }

  private async byIdempotencyKey(consumerId: string, key: string, requestDigest: string): Promise<JobView | null> {
    const j = await this.ds.getRepository(JobEntity).findOneBy({ consumerId, idempotencyKey: key });
    if (!j) return null;
    if (j.requestDigest !== requestDigest) throw domainError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
    return view(j, true);
  }

  private async recordDenial(actor: Principal, req: JobRequest, e: DomainError): Promise<void> {
    const slot = this.limiter.take(actor.participantId);
    if (!slot.record) return;
    try {
      await inTransaction(this.ds, (tx) =>
        appendEvent(tx, {
          kind: 'job.denied',
          actor: actor.participantId,
          subjects: { contract: req.contractId, consumer: actor.participantId },
          data: { reason: e.code, purpose: req.purpose, ...(slot.suppressedBefore ? { suppressedBefore: slot.suppressedBefore } : {}), ...(e.code === 'RECIPROCITY_UNMET' ? { rules: e.extensions.rules } : {}) },
        }),
      );
    } catch (err) {
      this.logger?.warn({ err }, 'could not record job.denied');
    }
  }

  /** Consumer, provider, operator and auditors: a job's status (token only for the consumer). */
  async get(actor: Principal, id: string): Promise<JobView> {
    const j = await this.ds.getRepository(JobEntity).findOneBy({ id });
    if (!j) throw notFound('job', id);
    const may = j.consumerId === actor.participantId || j.providerId === actor.participantId || actor.roles.includes('operator') || actor.roles.includes('auditor');
    if (!may) throw forbidden('only the job\'s parties, the operator and auditors may read it');
    return view(j, j.consumerId === actor.participantId);
  }

  /** Consumer: report completion with the digest of the result (ledger job.completed). */
  async complete(actor: Principal, id: string, body: { resultDigest: string; exitCode?: number }): Promise<JobView> {
    return inTransaction(this.ds, async (tx) => {
      const j = await tx.getRepository(JobEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!j) throw notFound('job', id);
      if (j.consumerId !== actor.participantId) throw forbidden('only the job\'s consumer reports its completion');
      if (j.state !== 'authorized') throw domainError('INVALID_STATE_TRANSITION', 'the job is already completed');
      await tx.query(`UPDATE jobs SET state = 'completed', result_digest = $2, completed_at = clock_timestamp() WHERE id = $1`, [id, body.resultDigest]);
      await appendEvent(tx, {
        kind: 'job.completed',
        actor: actor.participantId,
        subjects: { job: id, contract: j.contractId, dataset: j.datasetId, provider: j.providerId, consumer: j.consumerId },
        data: { resultDigest: body.resultDigest, ...(body.exitCode !== undefined ? { exitCode: body.exitCode } : {}) },
      });
      return view(await tx.getRepository(JobEntity).findOneByOrFail({ id }), true);
    });
  }
}
