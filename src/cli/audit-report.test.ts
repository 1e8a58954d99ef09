import { auditLedger, type AuditFilter } from './audit-report.js';
import { defaultVocabulary } from '../agreements/purpose-match.js';
import type { LedgerEntry } from '../ledger/ledger-entry.js';

const C = 'c1';
const parties = { contract: C, dataset: 'd1', provider: 'p1', consumer: 'k1' };
const vocab = defaultVocabulary();

/** A ledger as a correct service writes it: proposal (HMB, 2 invocations, window 01-01..01-31), signatures, activation. */
function ledger(): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  const add = (kind: string, at: string, subjects: Record<string, string>, data: Record<string, unknown> = {}) => out.push({ v: 1, index: out.length, kind, at, actor: 'k1', subjects, data });
  add('contract.proposed', '2026-01-01T00:00:00.000Z', parties, { purposes: ['DUO:0000006'], maxInvocations: 2, validFrom: '2026-01-01T00:00:00.000Z', validUntil: '2026-01-31T00:00:00.000Z' });
  add('contract.signed', '2026-01-01T00:01:00.000Z', parties);
  add('contract.signed', '2026-01-01T00:02:00.000Z', parties);
  add('contract.activated', '2026-01-01T00:02:00.000Z', parties);
  return Object.assign(out, { add });
}
type Ledger = LedgerEntry[] & { add: (kind: string, at: string, subjects: Record<string, string>, data?: Record<string, unknown>) => void };
const build = () => ledger() as Ledger;
const release = (l: Ledger, job: string, at: string, purpose = 'DUO:0000006') => l.add('job.authorized', at, { ...parties, job }, { purpose, access: 'download' });
const run = (l: Ledger, filter: AuditFilter = {}) => auditLedger(l, filter, vocab);

describe('auditLedger', () => {
  it('finds no violation in a correct history, and accounts for releases, purposes, unfinished jobs and denials', () => {
    const l = build();
    release(l, 'j1', '2026-01-02T00:00:00.000Z', 'DUO:0000007'); // narrower than the granted HMB: allowed
    l.add('job.completed', '2026-01-02T00:01:00.000Z', { ...parties, job: 'j1' }, { resultDigest: 'a' });
    release(l, 'j2', '2026-01-03T00:00:00.000Z');
    l.add('job.failed', '2026-01-03T00:01:00.000Z', { ...parties, job: 'j2' }, { reason: 'gateway refused' });
    l.add('contract.exhausted', '2026-01-03T00:00:00.000Z', parties);
    l.add('job.denied', '2026-01-04T00:00:00.000Z', { contract: C, consumer: 'k1' }, { reason: 'CONTRACT_EXHAUSTED' });
    l.add('job.denied', '2026-01-04T00:00:01.000Z', { contract: C, consumer: 'k1' }, { reason: 'CONTRACT_EXHAUSTED', suppressedBefore: 3 });
    l.add('job.denied', '2026-01-04T00:00:02.000Z', { requester: 'x' }, { reason: 'FORBIDDEN', contractId: C });
    const r = run(l);
    expect(r.ok).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.contracts).toHaveLength(1);
    expect(r.contracts[0]).toMatchObject({
      contractId: C, state: 'exhausted', maxInvocations: 2, releases: { inPeriod: 2, total: 2 },
      purposesUsed: [{ purpose: 'DUO:0000007', releases: 1, granted: true }, { purpose: 'DUO:0000006', releases: 1, granted: true }],
      jobsNeverCompleted: [{ jobId: 'j2', outcome: 'failed', reason: 'gateway refused' }],
      denials: { byReason: { CONTRACT_EXHAUSTED: 2, FORBIDDEN: 1 }, notRecorded: 3 },
    });
  });

  it('flags a release over the limit, outside the window, for an ungranted purpose, before activation and after revocation or withdrawal', () => {
    const l = build();
    release(l, 'j1', '2026-01-02T00:00:00.000Z');
    release(l, 'j2', '2026-01-03T00:00:00.000Z');
    release(l, 'j3', '2026-01-04T00:00:00.000Z'); // third of two
    release(l, 'j4', '2026-02-15T00:00:00.000Z', 'DUO:0000011'); // after the window, ungranted purpose, and fourth
    const kinds = run(l).violations.map((v) => [v.jobId, v.kind]);
    expect(kinds).toEqual([['j3', 'over-limit'], ['j4', 'over-limit'], ['j4', 'purpose-not-granted'], ['j4', 'outside-window']]);

    const early = build();
    early.splice(3, 1); // no activation
    release(early, 'j1', '2026-01-02T00:00:00.000Z');
    expect(run(early).violations.map((v) => v.kind)).toEqual(['contract-not-active']);

    const revoked = build();
    revoked.add('contract.revoked', '2026-01-05T00:00:00.000Z', parties, { reason: 'x' });
    release(revoked, 'j1', '2026-01-06T00:00:00.000Z');
    expect(run(revoked).violations.map((v) => [v.kind, v.detail])).toEqual([['contract-not-active', 'released after the contract was revoked']]);
    expect(run(revoked).contracts[0]!.state).toBe('revoked');

    const withdrawn = build();
    withdrawn.add('dataset.withdrawn', '2026-01-05T00:00:00.000Z', { dataset: 'd1', provider: 'p1' });
    release(withdrawn, 'j1', '2026-01-06T00:00:00.000Z');
    expect(run(withdrawn).violations.map((v) => v.kind)).toEqual(['dataset-withdrawn']);

    const unknown = build();
    unknown.add('job.authorized', '2026-01-02T00:00:00.000Z', { contract: 'c-unknown', job: 'jx', dataset: 'd9' }, { purpose: 'DUO:0000006' });
    expect(run(unknown).violations.map((v) => [v.contractId, v.kind])).toEqual([['c-unknown', 'unknown-contract']]);
  });

  it('allows the window end to the queueing grace, not beyond', () => {
    const l = build();
    release(l, 'j1', '2026-01-31T00:00:00.500Z');
    expect(run(l).ok).toBe(true);
    release(l, 'j2', '2026-01-31T00:00:01.001Z');
    expect(run(l).violations.map((v) => [v.jobId, v.kind])).toEqual([['j2', 'outside-window']]);
  });

  it('filters by contract, dataset and period, while the limit counts every earlier release', () => {
    const l = build();
    release(l, 'j1', '2026-01-02T00:00:00.000Z');
    release(l, 'j2', '2026-01-03T00:00:00.000Z');
    release(l, 'j3', '2026-01-10T00:00:00.000Z');
    const later = run(l, { from: new Date('2026-01-05T00:00:00Z'), to: new Date('2026-01-20T00:00:00Z') });
    expect(later.contracts[0]!.releases).toEqual({ inPeriod: 1, total: 3 });
    expect(later.violations.map((v) => [v.jobId, v.kind])).toEqual([['j3', 'over-limit']]);
    const before = run(l, { to: new Date('2026-01-05T00:00:00Z') });
    expect(before.ok).toBe(true);
    expect(before.contracts[0]!.jobsNeverCompleted.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    expect(run(l, { contractId: 'other' }).contracts).toEqual([]);
    expect(run(l, { datasetId: 'd1' }).contracts).toHaveLength(1);
    expect(run(l, { datasetId: 'd2' }).contracts).toEqual([]);
    expect(run(l, { from: new Date('2026-03-01T00:00:00Z') }).contracts).toEqual([]);
  });
});
