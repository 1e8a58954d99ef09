import { statementCurrencies } from '../money/currencies.js';
import { buildLines, countedReleases, inPeriod, releaseOf, termsOf, totalsOf, type ContractTerms, type CountedRelease } from './statement-document.js';
import { settle } from './settlement.js';

const t = statementCurrencies();
const r = (index: number, contractId: string, at: string, invocation: number, provider = 'P', consumer = 'C'): CountedRelease => ({ index, at, contractId, datasetId: `d-${contractId}`, provider, consumer, invocation });
const terms = new Map<string, ContractTerms>([
  ['a', { contractId: 'a', provider: 'P', consumer: 'C', price: { perInvocation: '0.10', currency: 'EUR' } }],
  ['b', { contractId: 'b', provider: 'P', consumer: 'C', price: null }],
  ['c', { contractId: 'c', provider: 'Q', consumer: 'C', price: { perInvocation: '19.99', currency: 'EUR' } }],
]);

describe('statement lines', () => {
  it('counts [from, to): from inclusive, to exclusive', () => {
    expect(inPeriod('2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z')).toBe(true);
    expect(inPeriod('2025-02-01T00:00:00.000Z', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z')).toBe(false);
    expect(inPeriod('2025-01-31T23:59:59.999Z', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00.000+00:00')).toBe(true);
  });

  it('groups per contract with exact amounts, free contracts in XXX, and the other side as counterparty', () => {
    const releases = [r(5, 'a', '2025-01-02T00:00:00.000Z', 1), r(9, 'a', '2025-01-03T00:00:00.000Z', 2), r(12, 'a', '2025-01-04T00:00:00.000Z', 3), r(7, 'b', '2025-01-02T00:00:00.000Z', 1),
      ...[1, 2, 3, 4, 5, 6, 7].map((i) => r(20 + i, 'c', '2025-01-05T00:00:00.000Z', i, 'Q')), r(40, 'a', '2025-03-01T00:00:00.000Z', 4)];
    const counted = countedReleases(releases, { party: 'C', role: 'consumer', from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' });
    const lines = buildLines(t, counted, terms, 'consumer');
    expect(lines.map((l) => [l.contractId, l.counterparty, l.invocations, l.perInvocation, l.currency, l.amount, l.entries])).toEqual([
      ['a', 'P', 3, '0.10', 'EUR', '0.30', [5, 9, 12]],
      ['b', 'P', 1, '0', 'XXX', '0', [7]],
      ['c', 'Q', 7, '19.99', 'EUR', '139.93', [21, 22, 23, 24, 25, 26, 27]],
    ]);
    expect(totalsOf(t, lines)).toEqual([{ currency: 'EUR', amount: '140.23' }, { currency: 'XXX', amount: '0' }]);
    const providerP = buildLines(t, countedReleases(releases, { party: 'P', role: 'provider', from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' }), terms, 'provider');
    expect(providerP.map((l) => [l.contractId, l.counterparty])).toEqual([['a', 'C'], ['b', 'C']]);
  });

  it('fails closed without the contract terms', () => {
    expect(() => buildLines(t, [r(1, 'zzz', '2025-01-01T00:00:00.000Z', 1)], terms, 'consumer')).toThrow(/no contract.activated terms/);
  });

  it('reads releases and terms from ledger entries', () => {
    const e = { index: 3, kind: 'job.authorized', at: '2025-01-01T00:00:00.000Z', actor: 'C', subjects: { job: 'j', contract: 'a', dataset: 'd', provider: 'P', consumer: 'C' }, data: { invocation: 2 } };
    expect(releaseOf(e)).toEqual({ index: 3, at: e.at, contractId: 'a', datasetId: 'd', provider: 'P', consumer: 'C', invocation: 2 });
    expect(releaseOf({ ...e, data: {} })).toBeNull();
    expect(releaseOf({ ...e, kind: 'job.denied' })).toBeNull();
    const act = { ...e, kind: 'contract.activated', data: { digest: 'x', price: { perInvocation: '1.00', currency: 'EUR' } } };
    expect(termsOf(act)).toEqual({ contractId: 'a', provider: 'P', consumer: 'C', price: { perInvocation: '1.00', currency: 'EUR' } });
    expect(termsOf({ ...act, data: { digest: 'x' } })?.price).toBeUndefined();
  });

  it('settles both sides per currency', () => {
    const releases = [r(1, 'a', '2025-01-02T00:00:00.000Z', 1), r(2, 'c', '2025-01-02T00:00:00.000Z', 1, 'Q'), r(3, 'c', '2025-01-02T00:00:00.000Z', 2, 'Q')];
    const s = settle(t, releases, terms, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(s).toEqual({
      balanced: true,
      currencies: [{ currency: 'EUR', consumers: [{ party: 'C', amount: '40.08', invocations: 3 }], providers: [{ party: 'P', amount: '0.10', invocations: 1 }, { party: 'Q', amount: '39.98', invocations: 2 }], consumersTotal: '40.08', providersTotal: '40.08', balanced: true }],
    });
  });
});
