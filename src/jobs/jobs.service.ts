/**
 * Compute jobs: the release path. In one transaction every rule is checked
 * (participants, contract state and window, purpose, reciprocity, dataset),
 * the invocation is counted by one conditional UPDATE, the job is stored and
 * `job.authorized` is queued in the ledger: all of it commits or none.
 * A denial answers 403 with its code and is itself a (rate-limited) ledger event.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { DomainError, domainError, forbidden, notFound, type ErrorCode } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../http/auth.js';
import { isUuid } from '../http/ids.js';
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import type { ServiceKey } from '../service-keys.js';
import type { DatasetsService } from '../datasets/datasets.service.js';
import { ReciprocityService } from '../reciprocity/reciprocity.service.js';
import { contractDenial, type ContractsService } from '../agreements/contracts.service.js';
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

// Thrown inside the transaction to roll it back when the idempotency key was taken concurrently.
class IdempotentReplay extends Error {}

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
    private readonly contracts: ContractsService,
    private readonly datasets: DatasetsService,
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
      return { job: await inTransaction(this.ds, (tx) => this.release(tx, actor, req, idempotencyKey, requestDigest)), replayed: false };
    } catch (e) {
      if (e instanceof IdempotentReplay && idempotencyKey) {
        const prior = await this.byIdempotencyKey(actor.participantId, idempotencyKey, requestDigest);
        if (prior) return { job: prior, replayed: true };
      }
      if (e instanceof DomainError && RECORDED_DENIALS.has(e.code)) await this.recordDenial(actor, req, e);
      throw e;
    }
  }

  private async release(tx: EntityManager, actor: Principal, req: JobRequest, idempotencyKey: string | undefined, requestDigest: string): Promise<JobView> {
    const c = await this.contracts.find(tx, req.contractId);
    if (!c) throw notFound('contract', req.contractId);
    if (c.consumerId !== actor.participantId) throw forbidden('only the contract\'s consumer can run jobs on it');
    const parties = (await tx.query(`SELECT id, status, now() AS now FROM participants WHERE id = ANY($1::uuid[])`, [[c.consumerId, c.providerId]])) as Array<{ id: string; status: string; now: Date }>;
    if (parties.length !== 2 || parties.some((p) => p.status !== 'active')) throw domainError('PARTICIPANT_SUSPENDED', 'a party of the contract is not active');
    const now = parties[0]!.now;
    const denial = contractDenial(c, now);
    if (denial) throw domainError(denial, `the contract cannot release: ${denial.toLowerCase().replace(/_/g, ' ')}`);
    if (!isPurposeAllowed(defaultVocabulary(), req.purpose, c.purposes)) {
      throw domainError('PURPOSE_NOT_ALLOWED', `purpose ${req.purpose} is not allowed by the contract (${c.purposes.join(', ')})`);
    }
    // A plain read: a withdrawal committed before this statement is seen; no shared row lock on the hot path.
    const dataset = await this.datasets.row(tx, c.datasetId);
    if (dataset.status === 'withdrawn') throw domainError('DATASET_WITHDRAWN', 'the dataset has been withdrawn');
    const ruleIds = ((c.document as { reciprocityRuleIds?: string[] }).reciprocityRuleIds ?? []);
    const rules = await this.reciprocity.rulesFor(tx, dataset, ruleIds);
    const decision = await this.reciprocity.evaluate(tx, actor.participantId, rules, 1);
    ReciprocityService.enforce(decision);

    const id = randomUUID();
    const { url, sha256: digest, byteSize, mediaType } = dataset.distribution;
    const signed = await signReleaseToken(this.releaseKey, this.issuer, { job: id, contract: c.id, dataset: dataset.id, sha256: digest, provider: c.providerId, url });
    const inserted = (await tx.query(
      `INSERT INTO jobs (id, contract_id, consumer_id, provider_id, dataset_id, research_field, purpose, state, idempotency_key, request_digest, release)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'authorized', $8, $9, $10)
       ON CONFLICT (consumer_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING created_at`,
      [id, c.id, actor.participantId, c.providerId, dataset.id, dataset.researchField, req.purpose, idempotencyKey ?? null, requestDigest,
        JSON.stringify({ token: signed.token, url, sha256: digest, byteSize, mediaType, expiresAt: signed.expiresAt.toISOString(), jti: signed.jti })],
    )) as Array<{ created_at: Date }>;
    if (inserted.length === 0) throw new IdempotentReplay();
    const counted = await this.contracts.consumeInvocation(tx, c.id, actor.participantId);
    if (!counted) {
      // Lost the race for the last invocations (or the contract changed): say why, from the fresh row.
      const fresh = await this.contracts.find(tx, c.id);
      const code = (fresh && contractDenial(fresh, now)) ?? 'CONTRACT_EXHAUSTED';
      throw domainError(code, `the contract cannot release: ${code.toLowerCase().replace(/_/g, ' ')}`);
    }
    await appendEvent(tx, {
      kind: 'job.authorized',
      actor: actor.participantId,
      subjects: { job: id, contract: c.id, dataset: dataset.id, provider: c.providerId, consumer: actor.participantId },
      data: {
        purpose: req.purpose,
        sha256: digest,
        invocation: counted.used,
        remaining: counted.remaining,
        releaseJti: signed.jti,
        releaseExpiresAt: signed.expiresAt.toISOString(),
        reciprocity: decision.outcomes.map((o) => ({ ruleId: o.ruleId, kind: o.kind, holds: o.holds, evidence: o.evidence })),
      },
    });
    // Built from what was just written: no re-read while the contract row is locked.
    const job = Object.assign(new JobEntity(), {
      id, contractId: c.id, consumerId: actor.participantId, providerId: c.providerId, datasetId: dataset.id, researchField: dataset.researchField,
      purpose: req.purpose, state: 'authorized' as const, idempotencyKey: idempotencyKey ?? null, requestDigest, resultDigest: null, completedAt: null,
      createdAt: inserted[0]!.created_at,
      release: { token: signed.token, url, sha256: digest, byteSize, mediaType, expiresAt: signed.expiresAt.toISOString(), jti: signed.jti },
    });
    return view(job, true, counted);
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
    const j = isUuid(id) ? await this.ds.getRepository(JobEntity).findOneBy({ id }) : null;
    if (!j) throw notFound('job', id);
    const may = j.consumerId === actor.participantId || j.providerId === actor.participantId || actor.roles.includes('operator') || actor.roles.includes('auditor');
    if (!may) throw forbidden('only the job\'s parties, the operator and auditors may read it');
    return view(j, j.consumerId === actor.participantId);
  }

  /** Consumer: report completion with the digest of the result (ledger job.completed). */
  async complete(actor: Principal, id: string, body: { resultDigest: string; exitCode?: number }): Promise<JobView> {
    return inTransaction(this.ds, async (tx) => {
      const j = isUuid(id) ? await tx.getRepository(JobEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } }) : null;
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
