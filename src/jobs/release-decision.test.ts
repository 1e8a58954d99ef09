import { checkRelease, computeReleaseStop, contractDenial, denialRecording, reciprocityDenial, releaseStillValid, stateDenial, type ReleaseCheckFacts } from './release-decision.js';
import type { ErrorCode } from '../errors.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const base: ReleaseCheckFacts = {
  consumerId: 'c', activeParties: 2, state: 'active', validFrom: new Date('2026-01-01T00:00:00Z'), validUntil: new Date('2027-01-01T00:00:00Z'),
  invocationsUsed: 1, maxInvocations: 3, datasetStatus: 'published', purposes: ['DUO:0000006'], now: NOW,
};

// One row per check, in the order the decision applies them; each row also breaks every later check,
// so the expected code proves the order.
const table: Array<[string, Partial<ReleaseCheckFacts> & { requester?: string; purpose?: string }, ErrorCode | null]> = [
  ['allows a valid request', {}, null],
  ['refuses a non-party first', { requester: 'x', activeParties: 1, state: 'revoked', datasetStatus: 'withdrawn', purpose: 'DUO:0000042' }, 'FORBIDDEN'],
  ['then a suspended party', { activeParties: 1, state: 'revoked', datasetStatus: 'withdrawn', purpose: 'DUO:0000042' }, 'PARTICIPANT_SUSPENDED'],
  ['then a revoked contract', { state: 'revoked', datasetStatus: 'withdrawn', purpose: 'DUO:0000042' }, 'CONTRACT_REVOKED'],
  ['then an expired state', { state: 'expired', datasetStatus: 'withdrawn' }, 'CONTRACT_EXPIRED'],
  ['an active contract past its window (before the sweep) is expired', { validUntil: NOW, invocationsUsed: 3 }, 'CONTRACT_EXPIRED'],
  ['then exhausted', { invocationsUsed: 3, datasetStatus: 'withdrawn' }, 'CONTRACT_EXHAUSTED'],
  ['an exhausted state', { state: 'exhausted' }, 'CONTRACT_EXHAUSTED'],
  ['not active before its window', { validFrom: new Date(NOW.getTime() + 1), datasetStatus: 'withdrawn' }, 'CONTRACT_NOT_ACTIVE'],
  ['not active while only consumer-signed', { state: 'consumer_signed' }, 'CONTRACT_NOT_ACTIVE'],
  ['then a withdrawn dataset', { datasetStatus: 'withdrawn', purpose: 'DUO:0000042' }, 'DATASET_WITHDRAWN'],
  ['then a purpose the contract does not allow', { purpose: 'DUO:0000042' }, 'PURPOSE_NOT_ALLOWED'],
  ['a narrower purpose is allowed', { purpose: 'DUO:0000007' }, null],
];

describe('release decision', () => {
  it.each(table)('%s', (_name, over, code) => {
    const { requester = 'c', purpose = 'DUO:0000006', ...facts } = over;
    expect(checkRelease({ ...base, ...facts }, requester, purpose)?.code ?? null).toBe(code);
  });

  it('re-derives the state refusal alone from fresh facts (the lost-race answer)', () => {
    expect(stateDenial({ ...base, invocationsUsed: 3 })?.code).toBe('CONTRACT_EXHAUSTED');
    expect(stateDenial(base)).toBeNull();
    expect(contractDenial({ ...base, state: 'proposed' }, NOW)).toBe('CONTRACT_NOT_ACTIVE');
  });

  it('turns an unmet reciprocity verdict into RECIPROCITY_UNMET naming the rule', () => {
    expect(reciprocityDenial({ allowed: true, outcomes: [] })).toBeNull();
    const d = reciprocityDenial({ allowed: false, outcomes: [{ ruleId: 'r1', kind: 'share-all', researchField: 'f', holds: false, evidence: [], missing: 'has nothing' }] });
    expect(d).toMatchObject({ code: 'RECIPROCITY_UNMET', recording: 'parties' });
    expect(d!.detail).toContain('r1');
  });

  it.each<[ErrorCode, string]>([
    ['CONTRACT_EXHAUSTED', 'parties'], ['CONTRACT_EXPIRED', 'parties'], ['CONTRACT_NOT_ACTIVE', 'parties'], ['CONTRACT_REVOKED', 'parties'],
    ['PURPOSE_NOT_ALLOWED', 'parties'], ['RECIPROCITY_UNMET', 'parties'], ['DATASET_WITHDRAWN', 'parties'], ['PARTICIPANT_SUSPENDED', 'parties'],
    ['FORBIDDEN', 'requester'], ['NOT_FOUND', 'none'], ['VALIDATION_FAILED', 'none'], ['INTERNAL', 'none'],
  ])('records %s as %s', (code, recording) => {
    expect(denialRecording(code)).toBe(recording);
  });
});

describe('an authorized release stays downloadable', () => {
  it.each<[string, Partial<ReleaseCheckFacts>, ErrorCode | null]>([
    ['while nothing changed', {}, null],
    ['after the contract is exhausted by it', { state: 'exhausted' }, null],
    ['after the window ended', { state: 'expired' }, null],
    ['not after a revocation', { state: 'revoked' }, 'CONTRACT_REVOKED'],
    ['not after a withdrawal', { datasetStatus: 'withdrawn' }, 'DATASET_WITHDRAWN'],
    ['not after a suspension', { activeParties: 1 }, 'PARTICIPANT_SUSPENDED'],
  ])('%s', (_name, over, code) => {
    expect(releaseStillValid({ ...base, ...over })?.code ?? null).toBe(code);
  });
});

describe('computeReleaseStop', () => {
  it.each([
    ['active contract, published dataset', 'active', 'published', null],
    ['exhausted contract: its queued analyses still run', 'exhausted', 'published', null],
    ['revoked contract', 'revoked', 'published', 'CONTRACT_REVOKED'],
    ['withdrawn dataset', 'active', 'withdrawn', 'DATASET_WITHDRAWN'],
    ['both: revocation is named', 'revoked', 'withdrawn', 'CONTRACT_REVOKED'],
  ])('%s', (_name, contractState, datasetStatus, code) => {
    expect(computeReleaseStop(contractState, datasetStatus)).toBe(code);
  });
});
