import { controlAggregate, controlRegression, failsPRatio, isDominated, roundCount, type GroupStat } from './disclosure-control.js';
import { effectivePolicy, type AggregateAnalysis, type DatasetColumn } from './analysis.js';

const schema: DatasetColumn[] = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'ward', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
];
const policy = effectivePolicy({});

/** A measure cell computed by hand from its list of contributions. */
function cellOf(values: number[], fn: 'sum' | 'mean' = 'mean') {
  const abs = values.map(Math.abs).sort((a, b) => b - a);
  const sum = values.reduce((a, b) => a + b, 0);
  return { value: fn === 'sum' ? sum : sum / values.length, contributors: values.length, absTotal: abs.reduce((a, b) => a + b, 0), top: abs.slice(0, 2) };
}

const countAndMean: AggregateAnalysis = { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] };

describe('rounding, dominance and p-ratio rules', () => {
  test('counts round to the nearest multiple, halves up', () => {
    expect([10, 12, 13, 17, 18, 22, 23].map((c) => roundCount(c, 5))).toEqual([10, 10, 15, 15, 20, 20, 25]);
    expect(roundCount(13, 1)).toBe(13);
    expect(roundCount(14, 10)).toBe(10);
    expect(roundCount(15, 10)).toBe(20);
  });

  test('NK dominance (n=2, k=0.9): top two of the total', () => {
    // 50 + 41 = 91 of 100 -> dominated; 50 + 39 = 89 of 100 -> not.
    expect(isDominated([50, 41], 100, { n: 2, k: 0.9 })).toBe(true);
    expect(isDominated([50, 40], 100, { n: 2, k: 0.9 })).toBe(true); // exactly 0.9 counts (≥ k)
    expect(isDominated([50, 39], 100, { n: 2, k: 0.9 })).toBe(false);
    expect(isDominated([5], 5, { n: 2, k: 0.9 })).toBe(true); // fewer contributors than n
  });

  test('p-ratio: (total - top1 - top2) / top1 < p', () => {
    // total 100, top 60 and 35: rest 5, 5/60 = 0.083 < 0.1 -> fails; top 50 and 35: rest 15, 15/50 = 0.3 -> holds.
    expect(failsPRatio([60, 35], 100, 0.1)).toBe(true);
    expect(failsPRatio([50, 35], 100, 0.1)).toBe(false);
    // 40 + 20, rest 4 of total 64: 4/40 = 0.1, not below -> holds.
    expect(failsPRatio([40, 20], 64, 0.1)).toBe(false);
  });
});

describe('aggregate control against hand-computed tables', () => {
  test('groups under 10 are dropped and counted, counts rounded, a dominated mean is null', () => {
    const flat = Array.from({ length: 23 }, (_, i) => 3 + (i % 4)); // 23 stays of 3..6 days
    const dominated = [...Array.from({ length: 10 }, () => 1), 500, 400]; // 12 rows: 900 of 910 in the top two
    const groups: GroupStat[] = [
      { key: ['cardiology'], count: 23, measures: [{ value: null, contributors: 23 }, cellOf(flat)] },
      { key: ['oncology'], count: 9, measures: [{ value: null, contributors: 9 }, cellOf(Array(9).fill(4))] },
      { key: ['surgery'], count: 12, measures: [{ value: null, contributors: 12 }, cellOf(dominated)] },
      { key: ['icu'], count: 3, measures: [{ value: null, contributors: 3 }, cellOf([1, 2, 3])] },
    ];
    const r = controlAggregate({ analysis: countAndMean, schema, policy, groups });
    expect(r.status).toBe('pass');
    expect(r.columns).toEqual([{ name: 'ward', type: 'string' }, { name: 'count', type: 'integer' }, { name: 'mean_los_days', type: 'number' }]);
    const meanFlat = flat.reduce((a, b) => a + b, 0) / 23;
    expect(r.rows).toEqual([['cardiology', 25, meanFlat], ['surgery', 10, null]]);
    expect(r.disclosure.suppressedRows).toBe(2);
    expect(r.disclosure.rounded).toBe(true);
    const check = (name: string) => r.disclosure.checks.find((c) => c.check === name);
    expect(check('minCellCount')).toEqual({ check: 'minCellCount', outcome: 'suppressed', cells: 2 });
    expect(check('dominance')).toEqual({ check: 'dominance', outcome: 'suppressed', cells: 1 });
    expect(check('pRatio')).toEqual({ check: 'pRatio', outcome: 'pass', cells: 0 });
    expect(r.error).toBeUndefined();
  });

  test('a count that rounds below the threshold is dropped too (minCellCount 12, 12 -> 10)', () => {
    const p = effectivePolicy({ minCellCount: 12 });
    const groups: GroupStat[] = [
      { key: ['a'], count: 12, measures: [{ value: null, contributors: 12 }] },
      { key: ['b'], count: 13, measures: [{ value: null, contributors: 13 }] },
    ];
    const r = controlAggregate({ analysis: { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] }, schema, policy: p, groups });
    expect(r.rows).toEqual([['b', 15]]);
    expect(r.disclosure.suppressedRows).toBe(1);
  });

  test('p-ratio suppresses a sum the dominance rule lets through', () => {
    // Contributions 60 + 35 + 5·1 = 100: 95 % in the top two passes NK with k = 0.99,
    // but the p-ratio (100 - 60 - 35) / 60 = 0.083 is below 0.1.
    const p = effectivePolicy({ dominance: { n: 2, k: 0.99 } });
    const values = [60, 35, 1, 1, 1, 1, 1, 0, 0, 0];
    const r = controlAggregate({
      analysis: { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'sum', column: 'los_days' }] },
      schema, policy: p,
      groups: [{ key: ['x'], count: 10, measures: [cellOf(values, 'sum')] }],
    });
    expect(r.rows).toEqual([['x', null]]);
    expect(r.disclosure.checks.find((c) => c.check === 'pRatio')).toEqual({ check: 'pRatio', outcome: 'suppressed', cells: 1 });
  });

  test('a mean with fewer than minCellCount non-null values and an all-zero sum are null', () => {
    const r = controlAggregate({
      analysis: { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'mean', column: 'los_days' }, { fn: 'sum', column: 'age' }] },
      schema, policy,
      groups: [{ key: ['x'], count: 15, measures: [cellOf([1, 2, 3, 4, 5, 6, 7, 8, 9]), cellOf(Array(15).fill(0), 'sum')] }],
    });
    expect(r.rows).toEqual([['x', null, null]]);
    const byName = Object.fromEntries(r.disclosure.checks.map((c) => [c.check, c]));
    expect(byName.minCellCount).toEqual({ check: 'minCellCount', outcome: 'suppressed', cells: 1 });
    expect(byName.zeros).toEqual({ check: 'zeros', outcome: 'suppressed', cells: 1 });
  });

  test('query-set rule: filters selecting or excluding fewer than 10 rows fail the whole analysis', () => {
    const filtered: AggregateAnalysis = { ...countAndMean, filters: [{ column: 'age', op: '>=', value: 90 }] };
    const groups: GroupStat[] = [{ key: ['a'], count: 50, measures: [{ value: null, contributors: 50 }, cellOf(Array(50).fill(2))] }];
    for (const qs of [{ total: 1000, selected: 9 }, { total: 1000, selected: 991 }]) {
      const r = controlAggregate({ analysis: filtered, schema, policy, groups, querySet: qs });
      expect(r.status).toBe('fail');
      expect(r.error).toBe('DIFFERENCING_RISK');
      expect(r.rows).toEqual([]);
      expect(r.disclosure.checks[0]).toEqual({ check: 'querySet', outcome: 'fail', cells: 1 });
    }
    const ok = controlAggregate({ analysis: filtered, schema, policy, groups, querySet: { total: 1000, selected: 990 } });
    expect(ok.status).toBe('pass');
    expect(ok.rows).toEqual([['a', 50, 2]]);
    // Filters without a computed query set fail closed.
    expect(controlAggregate({ analysis: filtered, schema, policy, groups }).error).toBe('DIFFERENCING_RISK');
  });

  test('min/max fail unless allowExtremes; with it they are released', () => {
    const analysis: AggregateAnalysis = { type: 'aggregate', measures: [{ fn: 'max', column: 'age' }] };
    const groups: GroupStat[] = [{ key: [], count: 40, measures: [{ value: 97, contributors: 40 }] }];
    const refused = controlAggregate({ analysis, schema, policy, groups });
    expect(refused.status).toBe('fail');
    expect(refused.error).toBe('EXTREMES_NOT_ALLOWED');
    const allowed = controlAggregate({ analysis, schema, policy: effectivePolicy({ allowExtremes: true }), groups });
    expect(allowed.rows).toEqual([[97]]);
    expect(allowed.columns).toEqual([{ name: 'max_age', type: 'integer' }]);
  });

  test('more released rows than maxRows fail', () => {
    const groups: GroupStat[] = [1, 2, 3].map((i) => ({ key: [`w${i}`], count: 20, measures: [{ value: null, contributors: 20 }] }));
    const analysis: AggregateAnalysis = { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] };
    expect(controlAggregate({ analysis, schema, policy: effectivePolicy({ maxRows: 2 }), groups }).error).toBe('MAX_ROWS_EXCEEDED');
    expect(controlAggregate({ analysis, schema, policy: effectivePolicy({ maxRows: 3 }), groups }).rows).toHaveLength(3);
  });

  test('noise is added before thresholding and rounding', () => {
    const p = effectivePolicy({ noise: { mechanism: 'discrete-laplace', epsilon: 1 } });
    const analysis: AggregateAnalysis = { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] };
    const groups: GroupStat[] = [
      { key: ['a'], count: 10, measures: [{ value: null, contributors: 10 }] },
      { key: ['b'], count: 9, measures: [{ value: null, contributors: 9 }] },
      { key: ['c'], count: 21, measures: [{ value: null, contributors: 21 }] },
    ];
    const draws = [-1, 2, 2];
    const r = controlAggregate({ analysis, schema, policy: p, groups, noise: () => draws.shift()! });
    // a: 10 - 1 = 9 < 10 dropped; b: 9 + 2 = 11 kept -> 10; c: 21 + 2 = 23 -> 25.
    expect(r.rows).toEqual([['b', 10], ['c', 25]]);
    expect(r.disclosure.suppressedRows).toBe(1);
    expect(r.disclosure.noise).toEqual({ mechanism: 'discrete-laplace', epsilon: 1 });
  });

  test('with reviewers named, a dominance suppression asks for review', () => {
    const p = effectivePolicy({ review: { approvals: 1, reviewers: ['r1'] } });
    const groups: GroupStat[] = [{ key: ['a'], count: 12, measures: [{ value: null, contributors: 12 }, cellOf([...Array(10).fill(1), 500, 400])] }];
    expect(controlAggregate({ analysis: countAndMean, schema, policy: p, groups }).status).toBe('review');
    const clean: GroupStat[] = [{ key: ['a'], count: 12, measures: [{ value: null, contributors: 12 }, cellOf(Array(12).fill(3))] }];
    expect(controlAggregate({ analysis: countAndMean, schema, policy: p, groups: clean }).status).toBe('pass');
  });
});

describe('regression control', () => {
  const analysis = { type: 'regression' as const, model: 'ols' as const, outcome: 'los_days', predictors: ['age'] };
  const terms = [{ term: 'intercept', estimate: 1.5, stdError: 0.2 }, { term: 'age', estimate: 0.05, stdError: 0.01 }];

  test('residual df below the limit fails; at the limit passes with n rounded', () => {
    const low = controlRegression({ analysis, policy, fit: { ok: true, n: 11, residualDf: 9, terms } });
    expect(low.status).toBe('fail');
    expect(low.error).toBe('RESIDUAL_DF_TOO_LOW');
    expect(low.rows).toEqual([]);
    const ok = controlRegression({ analysis, policy, fit: { ok: true, n: 12, residualDf: 10, terms } });
    expect(ok.status).toBe('pass');
    expect(ok.columns.map((c) => c.name)).toEqual(['term', 'estimate', 'stdError']);
    expect(ok.rows).toEqual([['intercept', 1.5, 0.2], ['age', 0.05, 0.01]]);
    expect(ok.n).toBe(10);
    expect(ok.residualDf).toBe(10);
  });

  test('a filtered regression obeys the query-set rule; a singular design fails', () => {
    const filtered = { ...analysis, filters: [{ column: 'ward', op: '=' as const, value: 'icu' }] };
    expect(controlRegression({ analysis: filtered, policy, fit: { ok: true, n: 500, residualDf: 498, terms }, querySet: { total: 505, selected: 500 } }).error).toBe('DIFFERENCING_RISK');
    expect(controlRegression({ analysis, policy, fit: { ok: false, n: 500, reason: 'singular' } }).error).toBe('REGRESSION_SINGULAR');
  });
});
