import { completeOutputPolicy } from '../agreements/output-policy.js';
import { DomainError } from '../errors.js';
import type { AggregateAnalysis, Analysis, RegressionAnalysis } from './analysis-check.js';
import { cellFits, checkBindings, checkReleasedCells, resultColumns, type ResultBindings, type ResultDocument } from './result-verification.js';

const SCHEMA = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'sex', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
  { name: 'smoker', type: 'boolean' },
  { name: 'admitted', type: 'date' },
] as const;

const AGGREGATE: AggregateAnalysis = {
  type: 'aggregate',
  groupBy: ['sex', 'smoker', 'admitted'],
  measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }, { fn: 'max', column: 'age' }, { fn: 'min', column: 'los_days' }],
};
const AGGREGATE_COLUMNS = [
  { name: 'sex', type: 'string' },
  { name: 'smoker', type: 'boolean' },
  { name: 'admitted', type: 'date' },
  { name: 'count', type: 'integer' },
  { name: 'mean_los_days', type: 'number' },
  { name: 'max_age', type: 'integer' },
  { name: 'min_los_days', type: 'number' },
] as const;
const REGRESSION: RegressionAnalysis = { type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age', 'smoker'] };

const POLICY = completeOutputPolicy({ allowExtremes: true });

function result(over: Partial<ResultDocument> = {}): ResultDocument {
  return {
    type: 'tds.result.v1',
    jobId: 'j',
    contractId: 'c',
    datasetSha256: 'd',
    analysisDigest: 'a',
    status: 'pass',
    columns: AGGREGATE_COLUMNS.map((c) => ({ ...c })),
    rows: [['F', true, '2024-02-29', 520, 4.25, 97, 0.5], [null, null, null, 15, null, null, null]],
    disclosure: { policy: POLICY as unknown as Record<string, unknown>, checks: [], suppressedRows: 0, rounded: true, noise: null },
    producedAt: '2026-12-01T20:00:00.000Z',
    ...over,
  };
}

const bindings = (analysis: Analysis = AGGREGATE, over: Partial<ResultBindings> = {}): ResultBindings => ({ jobId: 'j', contractId: 'c', datasetSha256: 'd', analysisDigest: 'a', analysis, datasetColumns: SCHEMA, ...over });

/** The code and pointers a check throws, or null when it passes. */
function refusal(check: () => void): { code: string; pointers: string[] } | null {
  try {
    check();
    return null;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const errors = (e.extensions.errors ?? []) as Array<{ pointer: string }>;
    return { code: e.code, pointers: errors.map((x) => x.pointer) };
  }
}

describe('resultColumns', () => {
  it('an aggregate: the groupBy columns typed as the dataset declares them, then count or <fn>_<column>', () => {
    expect(resultColumns(AGGREGATE, SCHEMA)).toEqual(AGGREGATE_COLUMNS);
  });

  it('a regression: term, estimate, stdError', () => {
    expect(resultColumns(REGRESSION, SCHEMA)).toEqual([{ name: 'term', type: 'string' }, { name: 'estimate', type: 'number' }, { name: 'stdError', type: 'number' }]);
  });

  it('a column the schema does not declare is typed string, as the node types it', () => {
    expect(resultColumns({ type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] }, [])).toEqual([{ name: 'ward', type: 'string' }, { name: 'count', type: 'integer' }]);
  });
});

describe('checkBindings', () => {
  it("takes a result with the analysis's columns, types and row lengths", () => {
    expect(refusal(() => checkBindings(result(), bindings()))).toBeNull();
  });

  it.each([
    ['a count typed string', 3, 'string'],
    ['a mean typed string', 4, 'string'],
    ['a mean typed integer', 4, 'integer'],
    ['a max of an integer column typed number', 5, 'number'],
    ['a boolean key typed string', 1, 'string'],
    ['a date key typed string', 2, 'string'],
  ] as const)('refuses %s (RESULT_MISMATCH at the column type)', (_what, i, type) => {
    const columns = AGGREGATE_COLUMNS.map((c, j) => (j === i ? { ...c, type } : { ...c }));
    expect(refusal(() => checkBindings(result({ columns }), bindings()))).toEqual({ code: 'RESULT_MISMATCH', pointers: [`/result/columns/${i}/type`] });
  });

  it('refuses other names, another order, and rows of another length', () => {
    const swapped = [AGGREGATE_COLUMNS[0], AGGREGATE_COLUMNS[1], AGGREGATE_COLUMNS[2], AGGREGATE_COLUMNS[4], AGGREGATE_COLUMNS[3], AGGREGATE_COLUMNS[5], AGGREGATE_COLUMNS[6]].map((c) => ({ ...c }));
    expect(refusal(() => checkBindings(result({ columns: swapped }), bindings()))?.pointers).toEqual(['/result/columns']);
    expect(refusal(() => checkBindings(result({ rows: [['F', true, '2024-02-29', 520, 4.25, 97]] }), bindings()))?.pointers).toEqual(['/result/rows/0']);
    expect(refusal(() => checkBindings(result({ rows: [['F', true, '2024-02-29', 520, 4.25, 97, 0.5, 'x']] }), bindings()))?.pointers).toEqual(['/result/rows/0']);
  });

  it('binds a regression to one row per term, intercept first, then the predictors in order', () => {
    const regression = (rows: ResultDocument['rows']) => result({ columns: resultColumns(REGRESSION, SCHEMA), rows, n: 525, residualDf: 520 });
    expect(refusal(() => checkBindings(regression([['intercept', 1.5, 0.25], ['age', 0.03, 0.01], ['smoker', 0.8, 0.2]]), bindings(REGRESSION)))).toBeNull();
    for (const rows of [
      [['intercept', 1.5, 0.25], ['age', 0.03, 0.01]],
      [['intercept', 1.5, 0.25], ['smoker', 0.8, 0.2], ['age', 0.03, 0.01]],
      [['intercept', 1.5, 0.25], ['age', 0.03, 0.01], ['secret-line', 0.8, 0.2]],
      [['intercept', 1.5, 0.25], ['age', 0.03, 0.01], ['smoker', 0.8, 0.2], ['smoker', 0.8, 0.2]],
    ]) {
      expect(refusal(() => checkBindings(regression(rows), bindings(REGRESSION)))).toEqual({ code: 'RESULT_MISMATCH', pointers: ['/result/rows'] });
    }
  });

  it('does not bind the columns of a failed result (it releases nothing)', () => {
    expect(refusal(() => checkBindings(result({ status: 'fail', columns: [], rows: [] }), bindings()))).toBeNull();
  });
});

describe('cellFits', () => {
  it.each([
    ['integer', 520, true], ['integer', 2 ** 60, true], ['integer', 4.5, false], ['integer', '520', false],
    ['number', 4.25, true], ['number', 'secret-line', false], ['number', true, false],
    ['string', 'F', true], ['string', 42, false],
    ['boolean', false, true], ['boolean', 'true', false], ['boolean', 1, false],
    ['date', '2024-02-29', true], ['date', '2023-02-29', false], ['date', '29.02.2024', false], ['date', 20240229, false],
    ['date', null, true], ['integer', null, true],
  ] as const)('%s %p: %p', (type, v, fits) => {
    expect(cellFits(type, v)).toBe(fits);
  });
});

describe('checkReleasedCells', () => {
  it("takes the node's encoding of every column type, and suppressed cells", () => {
    expect(refusal(() => checkReleasedCells(result(), AGGREGATE, POLICY))).toBeNull();
  });

  it.each([
    ['text in a mean', 4, 'secret-line'],
    ['a boolean in a mean', 4, true],
    ['a fraction in an integer max', 5, 97.5],
    ['text in a string key', 0, 42],
    ['text in a boolean key', 1, 'yes'],
    ['a date that does not exist', 2, '2024-02-30'],
    ['a count as text', 3, '520'],
  ] as const)('refuses %s (OUTPUT_POLICY_VIOLATION at the cell)', (_what, c, v) => {
    const rows = [['F', true, '2024-02-29', 520, 4.25, 97, 0.5].map((x, j) => (j === c ? v : x))];
    expect(refusal(() => checkReleasedCells(result({ rows }), AGGREGATE, POLICY))).toEqual({ code: 'OUTPUT_POLICY_VIOLATION', pointers: [`/result/rows/0/${c}`] });
  });

  it('refuses text in a regression estimate', () => {
    const r = result({ columns: resultColumns(REGRESSION, SCHEMA), rows: [['intercept', 'secret-line', 0.25], ['age', 0.03, 0.01], ['smoker', 0.8, 0.2]], n: 525, residualDf: 520 });
    expect(refusal(() => checkReleasedCells(r, REGRESSION, POLICY))?.pointers).toEqual(['/result/rows/0/1']);
  });

  it('refuses a hold for review under a policy without reviewers, whatever the approvals; with a reviewer it is taken', () => {
    expect(refusal(() => checkReleasedCells(result({ status: 'review' }), AGGREGATE, POLICY))).toEqual({ code: 'OUTPUT_POLICY_VIOLATION', pointers: ['/result/status'] });
    const reviewed = completeOutputPolicy({ allowExtremes: true, review: { approvals: 0, reviewers: ['r'] } });
    const held = result({ status: 'review', disclosure: { ...result().disclosure, policy: reviewed as unknown as Record<string, unknown> } });
    expect(refusal(() => checkReleasedCells(held, AGGREGATE, reviewed))).toBeNull();
  });

  it("refuses a disclosure record naming another policy than the contract's; member order does not matter", () => {
    const withPolicy = (policy: unknown) => result({ disclosure: { ...result().disclosure, policy: policy as Record<string, unknown> } });
    const reordered = Object.fromEntries(Object.entries(POLICY).reverse());
    expect(refusal(() => checkReleasedCells(withPolicy(reordered), AGGREGATE, POLICY))).toBeNull();
    for (const other of [{}, { ...POLICY, minCellCount: 1 }, { ...POLICY, review: { approvals: 0, reviewers: ['x'] } }, { ...POLICY, extra: true }, { ...POLICY, dominance: { k: 0.9, n: 3 } }]) {
      expect(refusal(() => checkReleasedCells(withPolicy(other), AGGREGATE, POLICY))).toEqual({ code: 'OUTPUT_POLICY_VIOLATION', pointers: ['/result/disclosure/policy'] });
    }
    // A failed result too: its record still says which policy the node applied.
    expect(refusal(() => checkReleasedCells({ ...withPolicy({}), status: 'fail', rows: [] }, AGGREGATE, POLICY))?.pointers).toEqual(['/result/disclosure/policy']);
  });

  it("refuses a record of rounding or noise other than the policy's", () => {
    const withRecord = (over: Record<string, unknown>) => result({ disclosure: { ...result().disclosure, ...over } as ResultDocument['disclosure'] });
    expect(refusal(() => checkReleasedCells(withRecord({ rounded: POLICY.roundTo }), AGGREGATE, POLICY))).toBeNull();
    expect(refusal(() => checkReleasedCells(withRecord({ rounded: false }), AGGREGATE, POLICY))?.pointers).toEqual(['/result/disclosure/rounded']);
    expect(refusal(() => checkReleasedCells(withRecord({ rounded: 2 }), AGGREGATE, POLICY))?.pointers).toEqual(['/result/disclosure/rounded']);
    expect(refusal(() => checkReleasedCells(withRecord({ noise: { mechanism: 'discrete-laplace', epsilon: 1 } }), AGGREGATE, POLICY))?.pointers).toEqual(['/result/disclosure/noise']);
    const noisy = completeOutputPolicy({ allowExtremes: true, noise: { mechanism: 'discrete-laplace', epsilon: 0.5 } });
    const noisyResult = (noise: unknown) => result({ disclosure: { ...result().disclosure, policy: noisy as unknown as Record<string, unknown>, noise } as ResultDocument['disclosure'] });
    expect(refusal(() => checkReleasedCells(noisyResult({ epsilon: 0.5, mechanism: 'discrete-laplace' }), AGGREGATE, noisy))).toBeNull();
    expect(refusal(() => checkReleasedCells(noisyResult(null), AGGREGATE, noisy))?.pointers).toEqual(['/result/disclosure/noise']);
  });

  it('names the differing members of the policy in the detail', () => {
    try {
      checkReleasedCells(result({ disclosure: { ...result().disclosure, policy: { ...POLICY, minCellCount: 1, roundTo: 1 } } }), AGGREGATE, POLICY);
      throw new Error('not refused');
    } catch (e) {
      expect((e as DomainError).detail).toContain('minCellCount, roundTo');
    }
  });
});
