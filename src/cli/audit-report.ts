/**
 * The auditor's accounting over a verified ledger (`tds report`): per
 * contract, the releases against its limit, the purposes used against those
 * granted, releases outside the validity window or while the contract was not
 * active, jobs never completed and denials by reason. Pure: it reads ledger
 * entries only (the ones `verifyLog` has checked), never the service, so what
 * it says holds whatever the service's own checks did.
 *
 * Violations are what a correct service can never have written: a release
 * beyond `maxInvocations`, for a purpose the contract does not allow, outside
 * its window, before the contract was activated, after it was revoked or
 * expired, after its dataset was withdrawn, or under a contract the ledger
 * does not know. Jobs never completed and denials are facts, not violations.
 */
import { isPurposeAllowed, type PurposeVocabulary } from '../agreements/purpose-match.js';
import type { LedgerEntry } from '../ledger/ledger-entry.js';

/** Which part of the ledger to report on; the period is [from, to) on the entries' `at`. */
export interface AuditFilter {
  contractId?: string;
  datasetId?: string;
  from?: Date;
  to?: Date;
}

/** The kinds of violation. */
export type ViolationKind = 'over-limit' | 'purpose-not-granted' | 'outside-window' | 'contract-not-active' | 'dataset-withdrawn' | 'unknown-contract';

/** One release a correct service could not have made. */
export interface Violation {
  kind: ViolationKind;
  contractId: string;
  jobId: string | null;
  /** Ledger index of the job.authorized entry. */
  index: number;
  at: string;
  detail: string;
}

/** How a released job ended, as the ledger says. */
export type JobOutcome = 'completed' | 'failed' | 'expired' | 'rejected' | 'open';

/** A job released under the contract that never completed. */
export interface UncompletedJob {
  jobId: string;
  index: number;
  at: string;
  outcome: Exclude<JobOutcome, 'completed'>;
  reason: string | null;
}

/** The accounting of one contract. */
export interface ContractAudit {
  contractId: string;
  datasetId: string | null;
  providerId: string | null;
  consumerId: string | null;
  /** Terms from contract.proposed (null when the ledger has no proposal for it). */
  maxInvocations: number | null;
  purposesGranted: string[];
  validFrom: string | null;
  validUntil: string | null;
  /** The last state the ledger shows (proposed, consumer_signed, active, exhausted, expired, revoked). */
  state: string;
  /** Releases (job.authorized) in the period, and in the whole verified ledger. */
  releases: { inPeriod: number; total: number };
  /** Purposes of the releases in the period. */
  purposesUsed: Array<{ purpose: string; releases: number; granted: boolean }>;
  jobsNeverCompleted: UncompletedJob[];
  /** Recorded denials in the period by reason code; `notRecorded` sums the rate limiter's suppressedBefore. */
  denials: { byReason: Record<string, number>; notRecorded: number };
  violations: Violation[];
}

/** The whole report. */
export interface AuditReport {
  entries: number;
  contracts: ContractAudit[];
  violations: Violation[];
  ok: boolean;
}

/**
 * Seconds an entry's `at` may lie after `validUntil`: `at` is when the event
 * was queued, a few milliseconds after the release statement checked the
 * window against its transaction's start.
 */
export const WINDOW_END_GRACE_MS = 1000;

const TERMINAL: Record<string, JobOutcome> = { 'job.completed': 'completed', 'job.released': 'completed', 'job.failed': 'failed', 'job.expired': 'expired', 'job.rejected': 'rejected' };
const STATE_OF: Record<string, string> = {
  'contract.proposed': 'proposed', 'contract.activated': 'active', 'contract.exhausted': 'exhausted', 'contract.expired': 'expired', 'contract.revoked': 'revoked',
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const time = (s: string | null): number => (s === null ? Number.NaN : Date.parse(s));

interface Working {
  audit: ContractAudit;
  activatedAt: number | null;
  stoppedAt: { at: number; why: string } | null;
  inPeriod: boolean;
}

function newContract(id: string): Working {
  return {
    audit: {
      contractId: id, datasetId: null, providerId: null, consumerId: null, maxInvocations: null, purposesGranted: [], validFrom: null, validUntil: null,
      state: 'unknown', releases: { inPeriod: 0, total: 0 }, purposesUsed: [], jobsNeverCompleted: [], denials: { byReason: {}, notRecorded: 0 }, violations: [],
    },
    activatedAt: null,
    stoppedAt: null,
    inPeriod: false,
  };
}

/** Account for every contract in `entries` (verified, in index order) that the filter selects. */
export function auditLedger(entries: readonly LedgerEntry[], filter: AuditFilter, vocabulary: PurposeVocabulary): AuditReport {
  const from = filter.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = filter.to?.getTime() ?? Number.POSITIVE_INFINITY;
  const inPeriod = (at: string) => {
    const t = Date.parse(at);
    return t >= from && t < to;
  };
  const contracts = new Map<string, Working>();
  const contractOf = (id: string) => {
    let w = contracts.get(id);
    if (!w) contracts.set(id, (w = newContract(id)));
    return w;
  };
  const withdrawnAt = new Map<string, number>();
  const jobs = new Map<string, { contract: Working; index: number; at: string; outcome: JobOutcome; reason: string | null; counted: boolean }>();
  const used = new Map<string, Map<string, number>>();

  for (const e of entries) {
    const contractId = str(e.subjects?.contract) ?? (e.kind === 'job.denied' ? str(e.data?.contractId) : null);
    if (e.kind === 'dataset.withdrawn' && str(e.subjects?.dataset)) {
      if (!withdrawnAt.has(e.subjects.dataset!)) withdrawnAt.set(e.subjects.dataset!, Date.parse(e.at));
      continue;
    }
    const jobId = str(e.subjects?.job);
    if (jobId && TERMINAL[e.kind] && jobs.has(jobId)) {
      const j = jobs.get(jobId)!;
      // The first outcome counts: a later event cannot un-complete a job.
      if (j.outcome === 'open') {
        j.outcome = TERMINAL[e.kind]!;
        j.reason = str(e.data?.reason);
      }
      continue;
    }
    if (!contractId || !e.kind.startsWith('contract.') && e.kind !== 'job.authorized' && e.kind !== 'job.denied') continue;
    const w = contractOf(contractId);
    if (inPeriod(e.at)) w.inPeriod = true;
    const a = w.audit;
    a.datasetId ??= str(e.subjects?.dataset);
    a.providerId ??= str(e.subjects?.provider);
    a.consumerId ??= str(e.subjects?.consumer);
    if (STATE_OF[e.kind] && a.state !== 'revoked') a.state = STATE_OF[e.kind]!;
    if (e.kind === 'contract.signed' && a.state === 'proposed') a.state = 'consumer_signed';
    switch (e.kind) {
      case 'contract.proposed':
        a.maxInvocations = typeof e.data?.maxInvocations === 'number' ? e.data.maxInvocations : null;
        a.purposesGranted = Array.isArray(e.data?.purposes) ? (e.data.purposes as unknown[]).filter((p): p is string => typeof p === 'string') : [];
        a.validFrom = str(e.data?.validFrom);
        a.validUntil = str(e.data?.validUntil);
        break;
      case 'contract.activated':
        w.activatedAt ??= Date.parse(e.at);
        break;
      case 'contract.revoked':
      case 'contract.expired':
        w.stoppedAt ??= { at: Date.parse(e.at), why: e.kind === 'contract.revoked' ? 'revoked' : 'expired' };
        break;
      case 'job.denied':
        if (inPeriod(e.at)) {
          const reason = str(e.data?.reason) ?? 'UNKNOWN';
          a.denials.byReason[reason] = (a.denials.byReason[reason] ?? 0) + 1;
          if (typeof e.data?.suppressedBefore === 'number') a.denials.notRecorded += e.data.suppressedBefore;
        }
        break;
      case 'job.authorized':
        accountRelease(e, w, jobId, inPeriod(e.at), withdrawnAt, vocabulary, used);
        if (jobId && !jobs.has(jobId)) jobs.set(jobId, { contract: w, index: e.index, at: e.at, outcome: 'open', reason: null, counted: inPeriod(e.at) });
        break;
    }
  }

  for (const [jobId, j] of jobs) {
    if (j.outcome !== 'completed' && j.counted) j.contract.audit.jobsNeverCompleted.push({ jobId, index: j.index, at: j.at, outcome: j.outcome, reason: j.reason });
  }
  const selected = [...contracts.values()].filter((w) => {
    const a = w.audit;
    if (filter.contractId !== undefined && a.contractId !== filter.contractId) return false;
    if (filter.datasetId !== undefined && a.datasetId !== filter.datasetId) return false;
    return w.inPeriod;
  });
  for (const w of selected) {
    const counts = used.get(w.audit.contractId) ?? new Map<string, number>();
    w.audit.purposesUsed = [...counts].map(([purpose, releases]) => ({ purpose, releases, granted: isPurposeAllowed(vocabulary, purpose, w.audit.purposesGranted) }));
  }
  const violations = selected.flatMap((w) => w.audit.violations).sort((x, y) => x.index - y.index);
  return { entries: entries.length, contracts: selected.map((w) => w.audit), violations, ok: violations.length === 0 };
}

// One job.authorized: count it, then every rule a correct service enforced at that moment.
function accountRelease(
  e: LedgerEntry, w: Working, jobId: string | null, counted: boolean, withdrawnAt: Map<string, number>, vocabulary: PurposeVocabulary, used: Map<string, Map<string, number>>,
): void {
  const a = w.audit;
  a.releases.total += 1;
  if (!counted) return;
  a.releases.inPeriod += 1;
  const purpose = str(e.data?.purpose) ?? '(none)';
  const counts = used.get(a.contractId) ?? new Map<string, number>();
  used.set(a.contractId, counts.set(purpose, (counts.get(purpose) ?? 0) + 1));
  const at = Date.parse(e.at);
  const flag = (kind: ViolationKind, detail: string) => a.violations.push({ kind, contractId: a.contractId, jobId, index: e.index, at: e.at, detail });
  if (a.maxInvocations === null) {
    flag('unknown-contract', 'release under a contract whose proposal (its terms) is not in the ledger');
    return;
  }
  if (a.releases.total > a.maxInvocations) flag('over-limit', `release ${a.releases.total} of a contract limited to ${a.maxInvocations}`);
  if (!isPurposeAllowed(vocabulary, purpose, a.purposesGranted)) flag('purpose-not-granted', `purpose ${purpose} is not allowed by the granted ${a.purposesGranted.join(', ') || '(none)'}`);
  if (!(at >= time(a.validFrom) && at <= time(a.validUntil) + WINDOW_END_GRACE_MS)) flag('outside-window', `released at ${e.at}, outside the window ${a.validFrom} .. ${a.validUntil}`);
  if (w.activatedAt === null || at < w.activatedAt) flag('contract-not-active', 'released before the contract was activated (both signatures)');
  else if (w.stoppedAt && at > w.stoppedAt.at) flag('contract-not-active', `released after the contract was ${w.stoppedAt.why}`);
  const withdrawn = a.datasetId ? withdrawnAt.get(a.datasetId) : undefined;
  if (withdrawn !== undefined && at > withdrawn) flag('dataset-withdrawn', `released after dataset ${a.datasetId} was withdrawn`);
}
