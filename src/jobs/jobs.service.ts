/**
 * Compute jobs: the release path. The decision (check order, codes, what is
 * recorded) is the pure release-decision module. Facts are read in one
 * statement; the release itself is ONE statement that re-checks the stateful
 * facts in its WHERE clause, counts the invocation, stores the job and queues
 * `job.authorized`: all of it commits or none. When reciprocity rules apply,
 * the rules are evaluated on one read and the release statement re-checks at
 * commit what concurrent requests could have changed (the give-to-get bound
 * on what the requester received, the version a withdrawal bumps), so the
 * rules hold under any concurrency; the reference path takes the requester's
 * (requester, research field) advisory locks first.
 * A denial answers 403 with its code and is itself a (rate-limited) ledger event.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { DomainError, conflict, domainError, forbidden, idempotencyKeyReused, notFound, rateLimited, refused, unknownKey } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import { requireRole, type PendingPrincipal, type Principal } from '../principal.js';
import { isUuid } from '../ids.js';
import type { ServiceKey } from '../service-keys.js';
import { ReciprocityService, ruleViewFromRow } from '../reciprocity/reciprocity.service.js';
import type { ReciprocityDecision } from '../reciprocity/evaluate-rules.js';
import { checkRelease, denialRecording, reciprocityDenial, releaseStillValid, stateDenial, type ReleaseCheckFacts, type ReleaseDenial } from './release-decision.js';
import { readReleaseFacts, readRuledFacts, release as runReleaseStatement, releaseAsCaller, releaseAsCallerRuled, releaseBatchAsCaller, releaseBatchAsCallerRuled, type CallerReleaseRow, type ReleaseFacts, type ReleaseRow } from './release.store.js';
import { RECIPROCITY_CHANGED } from '../reciprocity/reciprocity.store.js';
import { RuledReads } from './ruled-reads.js';
import { isPurposeAllowed, defaultVocabulary } from '../agreements/purpose-match.js';
import { JobEntity } from './job.entity.js';
import { confirmRelease } from './job-lifecycle.store.js';
import { signReleaseToken } from './release-token.js';
import { DenialLimiter } from './denial-limiter.js';
import { computeSubmissionOf, type ComputeSubmission } from './compute-submission.js';
import type { Analysis } from './analysis-check.js';
import { computeJobView } from './compute-job-view.js';
import type { DownloadJobView, JobView } from './job-view.js';
import { ReleaseBatcher } from './release-batcher.js';
import { isNamedReviewer } from './review-policy.js';
import { contractDocumentOf } from './job-queue.store.js';
import { CONTRACT_FACTS_MAX, contractFactsOf, isIdempotencyConflict, releasedJob, releaseValues, requestDigestOf, type ContractFacts, type ReleaseTerms } from './release-parts.js';

/** Body of a job request (already schema-checked). */
export interface JobRequest {
  contractId: string;
  purpose: string;
  description?: string;
  /** Compute contracts only: the analysis to run at the provider. */
  analysis?: Analysis;
}

export type { JobView, DownloadJobView } from './job-view.js';

// The idempotency key was taken by a concurrent request: the release statement failed whole.
class IdempotentReplay extends Error {}

// How often a release under rules decides again, under its locks, when a check at commit failed (each
// time, a release decided without the locks committed in between and moved what the decision saw).
const RULED_ATTEMPTS = 8;

/** True for the release statement's abort when what a decision under rules saw changed (SQLSTATE TDS01): nothing was written. */
function isReciprocityChanged(e: unknown): boolean {
  const pgErr = e as { code?: string; driverError?: { code?: string } };
  return (pgErr.driverError?.code ?? pgErr.code) === RECIPROCITY_CHANGED;
}

// Releases decided without the locks kept winning: vanishingly rare; the retry (same Idempotency-Key) is safe.
function busy(): DomainError {
  return rateLimited('too many simultaneous releases to this requester under reciprocity rules; retry with the same Idempotency-Key');
}

/** A refusal of the release decision as the DomainError the API answers with. */
function refusal(d: ReleaseDenial, extensions?: Record<string, unknown>): DomainError {
  return domainError(d.code, d.detail, extensions);
}

function checkFacts(f: ReleaseFacts): ReleaseCheckFacts {
  return {
    consumerId: f.consumer_id, activeParties: f.active_parties, state: f.state, validFrom: f.valid_from, validUntil: f.valid_until,
    invocationsUsed: f.invocations_used, maxInvocations: f.max_invocations, datasetStatus: f.dataset_status, purposes: f.purposes, now: f.now,
  };
}

/** A job row as the API shows it (download or compute); the release token only when `forConsumer`. */
export function jobView(j: JobEntity, forConsumer: boolean, counts?: { used: number; remaining: number }): JobView {
  return view(j, forConsumer, counts);
}

function view(j: JobEntity, forConsumer: boolean, counts?: { used: number; remaining: number }): JobView {
  if (j.access === 'compute' || !j.release) return computeJobView(j, counts);
  const { token, url, sha256: digest, byteSize, mediaType, expiresAt } = j.release;
  return {
    id: j.id,
    state: j.state as DownloadJobView['state'],
    access: 'download',
    contractId: j.contractId,
    datasetId: j.datasetId,
    consumerId: j.consumerId,
    providerId: j.providerId,
    purpose: j.purpose,
    release: { ...(forConsumer ? { token } : {}), url, sha256: digest, byteSize, mediaType, expiresAt },
    resultDigest: j.resultDigest,
    ...(j.reason ? { reason: j.reason } : {}),
    createdAt: j.createdAt.toISOString(),
    completedAt: j.completedAt?.toISOString() ?? null,
    ...(counts ? { invocationsUsed: counts.used, invocationsRemaining: counts.remaining } : {}),
  };
}

/** The most requests one batched release statement carries (a statement's parameters grow with it). */
const RELEASE_BATCH_MAX = 32;
/**
 * Release statements running at once per process and path. One: the requests that arrive meanwhile make
 * the next batch. Measured (`npm run bench -- --matrix --quick`, c=32, 1 process × pool 5, 3 s cells, two
 * runs each): 1 in flight gave
 * 1,073–1,177 jobs/s at 0.26–0.28 PostgreSQL CPU ms/job; 2 gave 552–991 (0.36–0.58); 3 gave 676–930
 * (0.42–0.58): more statements at once mean smaller batches, and each costs about as much as a big one.
 */
const RELEASE_STATEMENTS_IN_FLIGHT = 1;

/** Job authorization, release and completion. */
export class JobsService {
  private readonly limiter = new DenialLimiter();
  // The facts of each contract that never change (parties, dataset, purposes, distribution, terms), by id.
  private readonly contractFacts = new Map<string, ContractFacts>();
  // The last ruled read of each contract, decided on while it may be (ruled-reads.ts).
  private readonly ruledReads = new RuledReads();

  // RELEASE_AS_CALLER and RELEASE_AS_CALLER_RULED, several requests per statement when they queue (release-batcher.ts).
  readonly callerReleases: ReleaseBatcher<unknown[], CallerReleaseRow>;
  readonly ruledCallerReleases: ReleaseBatcher<unknown[], CallerReleaseRow>;

  constructor(
    private readonly ds: DataSource,
    private readonly reciprocity: ReciprocityService,
    private readonly releaseKey: ServiceKey,
    private readonly issuer: string,
    private readonly logger?: Logger,
  ) {
    this.callerReleases = new ReleaseBatcher(
      { one: (values) => releaseAsCaller(ds, values), many: (requests) => releaseBatchAsCaller(ds, requests) },
      { maxInFlight: RELEASE_STATEMENTS_IN_FLIGHT, maxBatch: RELEASE_BATCH_MAX },
    );
    this.ruledCallerReleases = new ReleaseBatcher(
      { one: (values) => releaseAsCallerRuled(ds, values), many: (requests) => releaseBatchAsCallerRuled(ds, requests) },
      { maxInFlight: RELEASE_STATEMENTS_IN_FLIGHT, maxBatch: RELEASE_BATCH_MAX },
    );
  }

  /** Consumer: authorize a job and release the dataset to it. `replayed` is true for an idempotent retry. */
  async authorize(actor: Principal, req: JobRequest, idempotencyKey?: string): Promise<{ job: JobView; replayed: boolean }> {
    const requestDigest = requestDigestOf(req);
    if (idempotencyKey) {
      const prior = await this.byIdempotencyKey(actor.participantId, idempotencyKey, requestDigest);
      if (prior) return { job: await this.stillReleasable(prior), replayed: true };
    }
    try {
      return { job: await this.release(actor, req, idempotencyKey, requestDigest), replayed: false };
    } catch (e) {
      if (e instanceof IdempotentReplay && idempotencyKey) {
        const prior = await this.byIdempotencyKey(actor.participantId, idempotencyKey, requestDigest);
        if (prior) return { job: await this.stillReleasable(prior), replayed: true };
      }
      if (e instanceof DomainError && denialRecording(e.code) !== 'none') await this.recordDenial(actor, req, e);
      throw e;
    }
  }

  // The release decision (release-decision.ts) on facts read in one statement; then either the release
  // statement (no reciprocity rule applies) or, under rules, a transaction that takes the requester's
  // (requester, field) locks, evaluates the rules on facts read after them and runs the same release
  // statement, which re-checks at commit what a release decided without those locks (authorizeAsCaller's
  // one-read path) could have changed meanwhile: the give-to-get bound on what the requester received.
  // When it was passed, decide again on what is now true.
  private async release(actor: Principal, req: JobRequest, idempotencyKey: string | undefined, requestDigest: string): Promise<JobView> {
    const f = await this.readFacts(req.contractId);
    const denied = checkRelease(checkFacts(f), actor.participantId, req.purpose);
    if (denied) throw refusal(denied);
    const compute = computeSubmissionOf(f, req.analysis);
    const rules = f.rules.map(ruleViewFromRow);
    const released = { field: f.research_field, kind: f.dataset_kind };
    let counted: Awaited<ReturnType<JobsService['runRelease']>> | null = null;
    if (rules.length === 0) {
      counted = await this.runRelease(f, actor, req, idempotencyKey, requestDigest, compute, { allowed: true, outcomes: [] }, null, (values) => runReleaseStatement(this.ds, values));
    }
    for (let attempt = 1; counted === null; attempt++) {
      if (attempt > RULED_ATTEMPTS) throw busy();
      try {
        counted = await inTransaction(this.ds, async (tx) => {
          const { decision, bounds } = await this.reciprocity.evaluateLocked(tx, actor.participantId, rules, released);
          const unmet = reciprocityDenial(decision);
          if (unmet) throw refusal(unmet, { rules: decision.outcomes });
          return this.runRelease(f, actor, req, idempotencyKey, requestDigest, compute, decision, bounds.limit, (values) => runReleaseStatement(tx, values));
        });
      } catch (e) {
        if (!isReciprocityChanged(e)) throw e;
      }
    }
    return view(releasedJob(f, actor.participantId, req, idempotencyKey, requestDigest, compute, counted), true, { used: counted.invocations_used, remaining: counted.max_invocations - counted.invocations_used });
  }

  /**
   * POST /v1/jobs whose token use is still to be recorded (PendingPrincipal). On a contract whose
   * immutable facts this process knows, that no reciprocity rule governs, for a purpose it allows and a
   * well-formed submission, the whole authorization is ONE statement (RELEASE_AS_CALLER: token record,
   * caller's state, idempotency, count, job, ledger queue), shared with the requests that queued behind a
   * running one (RELEASE_BATCH_AS_CALLER, release-batcher.ts). Everything else (a refusal, rules, an
   * idempotent retry, a lost race) records the token use on its own and takes `authorize`, whose checks,
   * codes and ledger denials stay the reference; the one statement only ever releases when it would.
   */
  async authorizeAsCaller(pending: PendingPrincipal, req: JobRequest, idempotencyKey?: string): Promise<{ job: JobView; replayed: boolean }> {
    const reference = async (actor?: Principal): Promise<{ job: JobView; replayed: boolean }> => {
      const p = actor ?? (await pending.complete());
      requireRole(p, 'consumer');
      return this.authorize(p, req, idempotencyKey);
    };
    let f = this.contractFacts.get(req.contractId);
    if (!f) {
      // First sight of this contract in this process: one read, kept for the facts that never change.
      const read = isUuid(req.contractId) ? await readReleaseFacts(this.ds, req.contractId) : null;
      if (!read) return reference();
      f = this.keepFacts(read);
    }
    if (f.consumer_id !== pending.participantId || !isPurposeAllowed(defaultVocabulary(), req.purpose, f.purposes)) return reference();
    let compute: ComputeSubmission | null;
    try {
      compute = computeSubmissionOf(f, req.analysis);
    } catch {
      return reference();
    }
    if (f.ruled) return this.authorizeRuledAsCaller(pending, f, req, idempotencyKey, compute, reference);
    const requestDigest = requestDigestOf(req);
    const id = randomUUID();
    const { release, subjects, data } = await this.releaseParts(f, pending.participantId, id, req.purpose, compute, { allowed: true, outcomes: [] });
    let row: CallerReleaseRow;
    try {
      row = await this.callerReleases.submit([...releaseValues(f, pending.participantId, id, req, idempotencyKey, requestDigest, compute, release, subjects, data), pending.jti, pending.expiresAt, pending.kid]);
    } catch (e) {
      // A concurrent retry with the same Idempotency-Key won: the statement failed whole (token record too).
      if (isIdempotencyConflict(e)) return reference();
      throw e;
    }
    return this.answerAsCaller(pending, f, req, idempotencyKey, requestDigest, compute, id, release, row, reference);
  }

  /**
   * POST /v1/jobs under reciprocity rules, no lock held: the rules and the requester's facts as read
   * (READ_RULED_FACTS, or the process's kept read of the contract: ruled-reads.ts), the same pure
   * evaluation as everywhere, and the release statement, which commits only if the rules are still those
   * read and aborts if its addition to what the requester received passes the give-to-get bound the
   * decision allowed or finds the version a withdrawal or publication bumps moved. A refusal, a failed
   * check, or rules it cannot re-check take the reference path, which decides under the locks on a
   * fresh read and says why.
   */
  private async authorizeRuledAsCaller(
    pending: PendingPrincipal, f: ContractFacts, req: JobRequest, idempotencyKey: string | undefined, compute: ComputeSubmission | null,
    reference: (actor?: Principal) => Promise<{ job: JobView; replayed: boolean }>,
  ): Promise<{ job: JobView; replayed: boolean }> {
    let read = this.ruledReads.get(f.id);
    if (!read) {
      read = await readRuledFacts(this.ds, f.id, pending.participantId);
      this.ruledReads.keep(f.id, read);
    }
    const rules = read.rules.map(ruleViewFromRow);
    const { decision, bounds } = this.reciprocity.decideOnRead(pending.participantId, rules, read, { field: f.research_field, kind: f.dataset_kind });
    // What the statement can re-check is the received row of the dataset's field and kind: rules about
    // another field, give-to-get about another kind, or a release of one's own dataset (no row) go locked.
    const checkable = bounds.elsewhere.length === 0 && rules.every((r) => r.researchField === f.research_field) && f.consumer_id !== f.provider_id;
    const notReleased = (): Promise<{ job: JobView; replayed: boolean }> => {
      this.ruledReads.forget(f.id);
      return reference();
    };
    if (!decision.allowed || !checkable) return notReleased();
    const requestDigest = requestDigestOf(req);
    const id = randomUUID();
    const { release, subjects, data } = await this.releaseParts(f, pending.participantId, id, req.purpose, compute, decision);
    let row: CallerReleaseRow;
    try {
      row = await this.ruledCallerReleases.submit([
        ...releaseValues(f, pending.participantId, id, req, idempotencyKey, requestDigest, compute, release, subjects, data), pending.jti, pending.expiresAt, pending.kid,
        rules.map((r) => r.id), bounds.limit, read.released_version,
      ]);
    } catch (e) {
      // A concurrent retry with the same Idempotency-Key won, or what the decision saw changed: the statement failed whole (token record too).
      if (isIdempotencyConflict(e) || isReciprocityChanged(e)) return notReleased();
      throw e;
    }
    if (row.created_at === null) {
      this.ruledReads.forget(f.id);
      return this.answerAsCaller(pending, f, req, idempotencyKey, requestDigest, compute, id, release, row, reference);
    }
    this.ruledReads.countRelease(f.id, f.research_field, f.dataset_kind);
    return this.answerAsCaller(pending, f, req, idempotencyKey, requestDigest, compute, id, release, row, reference);
  }

  // What a one-statement authorization answers: the released job, or (the token use recorded) the reference path.
  private async answerAsCaller(
    pending: PendingPrincipal, f: ContractFacts, req: JobRequest, idempotencyKey: string | undefined, requestDigest: string, compute: ComputeSubmission | null,
    id: string, release: JobEntity['release'], row: CallerReleaseRow, reference: (actor?: Principal) => Promise<{ job: JobView; replayed: boolean }>,
  ): Promise<{ job: JobView; replayed: boolean }> {
    if (row.status === null) throw unknownKey();
    const actor = pending.accept({ fresh: row.fresh, revokedAt: row.revoked_at, status: row.status, roles: row.roles ?? [] });
    requireRole(actor, 'consumer');
    if (row.created_at !== null) {
      const counted = { id, release, invocations_used: row.invocations_used!, max_invocations: row.max_invocations!, created_at: row.created_at };
      return { job: view(releasedJob(f, actor.participantId, req, idempotencyKey, requestDigest, compute, counted), true, { used: counted.invocations_used, remaining: counted.max_invocations - counted.invocations_used }), replayed: false };
    }
    if (row.ruled) f.ruled = true;
    // Not released: the token use is recorded; the reference path says why (or releases under rules, or finds the prior job).
    return reference(actor);
  }

  private keepFacts(f: ReleaseFacts): ContractFacts {
    const kept = contractFactsOf(f);
    if (this.contractFacts.size >= CONTRACT_FACTS_MAX) this.contractFacts.clear();
    this.contractFacts.set(f.id, kept);
    return kept;
  }

  // Sign the release token and run the atomic release statement through `run` (past `limit` it aborts:
  // isReciprocityChanged). Nothing released: the statement's own re-check refused (lost the race for the
  // last invocation, or the state changed): say why.
  private async runRelease(
    f: ReleaseFacts, actor: Principal, req: JobRequest, idempotencyKey: string | undefined, requestDigest: string, compute: ComputeSubmission | null, decision: ReciprocityDecision,
    limit: number | null, run: (values: unknown[]) => Promise<ReleaseRow | null>,
  ): Promise<{ id: string; release: JobEntity['release']; invocations_used: number; max_invocations: number; created_at: Date }> {
    const id = randomUUID();
    const { release, subjects, data } = await this.releaseParts(f, actor.participantId, id, req.purpose, compute, decision);
    let row: ReleaseRow | null;
    try {
      // The locked path holds the advisory locks a withdrawal takes: no version to check (null).
      row = await run([...releaseValues(f, actor.participantId, id, req, idempotencyKey, requestDigest, compute, release, subjects, data), limit, null]);
    } catch (e) {
      if (isIdempotencyConflict(e)) throw new IdempotentReplay();
      throw e;
    }
    if (row === null) {
      const why = stateDenial(checkFacts(await this.readFacts(req.contractId)));
      throw why ? refusal(why) : refused('CONTRACT_EXHAUSTED', 'the contract cannot release: contract exhausted');
    }
    return { id, release, ...row };
  }

  // The release token (download only), the ledger subjects and the event data of a job about to be released.
  private async releaseParts(f: ReleaseTerms, consumerId: string, id: string, purpose: string, compute: ComputeSubmission | null, decision: ReciprocityDecision) {
    const { url, sha256: digest, byteSize, mediaType } = f.distribution;
    // A compute job gets no release token: only the checked result will ever leave the provider.
    const signed = compute ? null : await signReleaseToken(this.releaseKey, this.issuer, { job: id, contract: f.id, dataset: f.dataset_id, sha256: digest, provider: f.provider_id, url });
    const release = signed ? { token: signed.token, url, sha256: digest, byteSize, mediaType, expiresAt: signed.expiresAt.toISOString(), jti: signed.jti } : null;
    const subjects = { job: id, contract: f.id, dataset: f.dataset_id, provider: f.provider_id, consumer: consumerId };
    const data = {
      purpose,
      sha256: digest,
      access: compute ? 'compute' : 'download',
      ...(compute ? { analysisDigest: compute.analysisDigest } : { releaseJti: signed!.jti, releaseExpiresAt: release!.expiresAt }),
      reciprocity: decision.outcomes.map((o) => ({ ruleId: o.ruleId, kind: o.kind, holds: o.holds, evidence: o.evidence })),
    };
    return { release, subjects, data };
  }

  // An idempotent retry re-checks the state: after a revocation, withdrawal or suspension it gets the refusal, not the old token.
  private async stillReleasable(job: JobView): Promise<JobView> {
    const why = releaseStillValid(checkFacts(await this.readFacts(job.contractId)));
    if (why) throw refusal(why);
    return job;
  }

  /**
   * The job's provider (its gateway, before serving) and the operator: may this release still be
   * downloaded? `releasable` false with the reason once the contract is revoked, the dataset withdrawn or
   * a party suspended; the token's jti lets the gateway match the token it holds.
   */
  async releaseStatus(actor: Principal, id: string): Promise<{ jobId: string; jti: string | null; releasable: boolean; reason: string | null; expiresAt: string }> {
    const j = await this.ds.getRepository(JobEntity).findOneBy({ id });
    if (!j) throw notFound('job', id);
    if (j.providerId !== actor.participantId && !actor.roles.includes('operator')) throw forbidden('only the job\'s provider and the operator read its release status');
    // A compute job releases no file: there is nothing a gateway may serve for it.
    if (!j.release) throw notFound('download release of job', id);
    const why = releaseStillValid(checkFacts(await this.readFacts(j.contractId)));
    const jti = (j.release as { jti?: string }).jti ?? null;
    const answer = (reason: string | null) => ({ jobId: j.id, jti, releasable: reason === null, reason, expiresAt: j.release!.expiresAt });
    if (why) return answer(why.code);
    // The provider's gateway asks just before serving: remember it (job-lifecycle), and refuse a job failed or expired
    // meanwhile. The operator's question is only a question.
    if (j.state === 'authorized' && j.providerId === actor.participantId && !(await confirmRelease(this.ds, j.id))) return answer(await this.stopReason(j.id));
    return answer(j.state === 'failed' ? 'JOB_FAILED' : j.state === 'expired' ? 'RELEASE_EXPIRED' : null);
  }

  private async stopReason(id: string): Promise<string> {
    const now = await this.ds.getRepository(JobEntity).findOneByOrFail({ id });
    return now.state === 'expired' ? 'RELEASE_EXPIRED' : 'JOB_FAILED';
  }

  private async readFacts(contractId: string): Promise<ReleaseFacts> {
    // contractId comes from the body: its schema's uuid format also admits a urn:uuid: prefix PostgreSQL refuses.
    const f = isUuid(contractId) ? await readReleaseFacts(this.ds, contractId) : null;
    if (!f) throw notFound('contract', contractId);
    this.keepFacts(f);
    return f;
  }

  private async byIdempotencyKey(consumerId: string, key: string, requestDigest: string): Promise<JobView | null> {
    const j = await this.ds.getRepository(JobEntity).findOneBy({ consumerId, idempotencyKey: key });
    if (!j) return null;
    if (j.requestDigest !== requestDigest) throw idempotencyKeyReused();
    return view(j, true);
  }

  // A refusal about the contract's substance goes into its parties' trail; a non-party's attempt is recorded
  // under the requester alone (the contract id in data), so nobody can write into another's trail.
  private async recordDenial(actor: Principal, req: JobRequest, e: DomainError): Promise<void> {
    const slot = this.limiter.take(actor.participantId);
    if (!slot.record) return;
    const recording = denialRecording(e.code);
    const subjects: Record<string, string> = recording === 'parties' ? { contract: req.contractId, consumer: actor.participantId } : { requester: actor.participantId };
    try {
      await inTransaction(this.ds, (tx) =>
        appendEvent(tx, {
          kind: 'job.denied',
          actor: actor.participantId,
          subjects,
          data: {
            reason: e.code, purpose: req.purpose, ...(recording === 'requester' ? { contractId: req.contractId } : {}),
            ...(slot.suppressedBefore ? { suppressedBefore: slot.suppressedBefore } : {}), ...(e.code === 'RECIPROCITY_UNMET' ? { rules: e.extensions.rules } : {}),
          },
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
    // A reviewer named by a compute contract's policy reads the job it is asked to review (analysis, purpose, dataset).
    const may = j.consumerId === actor.participantId || j.providerId === actor.participantId || actor.roles.includes('operator') || actor.roles.includes('auditor')
      || (j.access === 'compute' && actor.roles.includes('reviewer') && isNamedReviewer(actor, await contractDocumentOf(this.ds.manager, j.contractId), j.consumerId));
    if (!may) throw forbidden('only the job\'s parties, the reviewers its policy names, the operator and auditors may read it');
    return view(j, j.consumerId === actor.participantId);
  }

  /**
   * Consumer: report completion with the digest of the result (ledger job.completed), and optionally the
   * SHA-256 it computed over the bytes it downloaded: when that equals the dataset's digest, the release
   * shows the provider's contribution is real (reciprocity counts it).
   */
  async complete(actor: Principal, id: string, body: { resultDigest: string; exitCode?: number; datasetSha256?: string }): Promise<JobView> {
    return inTransaction(this.ds, async (tx) => {
      const j = await tx.getRepository(JobEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!j) throw notFound('job', id);
      if (j.consumerId !== actor.participantId) throw forbidden('only the job\'s consumer reports its completion');
      if (j.access === 'compute') throw conflict('INVALID_STATE_TRANSITION', 'a compute job completes with its provider\'s signed result (POST /v1/jobs/:id/result)');
      if (j.state !== 'authorized') throw conflict('INVALID_STATE_TRANSITION', `cannot complete a job in state ${j.state}`);
      await tx.query(`UPDATE jobs SET state = 'completed', result_digest = $2, dataset_sha256 = $3, completed_at = clock_timestamp() WHERE id = $1`, [id, body.resultDigest, body.datasetSha256 ?? null]);
      await appendEvent(tx, {
        kind: 'job.completed',
        actor: actor.participantId,
        subjects: { job: id, contract: j.contractId, dataset: j.datasetId, provider: j.providerId, consumer: j.consumerId },
        data: { resultDigest: body.resultDigest, ...(body.exitCode !== undefined ? { exitCode: body.exitCode } : {}), ...(body.datasetSha256 !== undefined ? { datasetSha256: body.datasetSha256 } : {}) },
      });
      return view(await tx.getRepository(JobEntity).findOneByOrFail({ id }), true);
    });
  }
}
