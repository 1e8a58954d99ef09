/**
 * Statistical disclosure control at the node, as a pure function of the
 * per-group statistics the query produced and the contract's output policy
 * (rules after ACRO/SACRO): query-set size, minimum cell count, optional
 * discrete-Laplace noise on counts (before thresholding and rounding),
 * rounding, zeros, NK dominance, p-ratio, extremes, maximum rows, and the
 * residual degrees of freedom of a regression. It decides what leaves the
 * hospital; nothing here does I/O, so every rule is unit-tested against
 * hand-computed tables.
 */
import { sampleDiscreteLaplace } from './discrete-laplace.js';
import type { AggregateAnalysis, Cell, CheckOutcome, DatasetColumn, OutputPolicy, RegressionAnalysis, ResultBody, ResultErrorCode } from './analysis.js';
import { REGRESSION_RESULT_COLUMNS, resultColumns } from '../jobs/result-verification.js';

/** Statistics of one measure in one group, as the query computed them. */
export interface MeasureStat {
  /** The measure's value (sum, mean, stddev, median, min or max); unused for `count`. */
  value: Cell;
  /** Rows with a non-null value of the measure's column. */
  contributors: number;
  /** Sum of absolute values (sum and mean): the total that dominance compares against. */
  absTotal?: number;
  /** The largest absolute values, descending (at least max(dominance.n, 2) of them when there are that many). */
  top?: number[];
}

/** One group of the query's answer, before any control. */
export interface GroupStat {
  key: Cell[];
  count: number;
  measures: MeasureStat[];
}

/** Rows of the whole dataset and rows the filters select (present when the analysis has filters). */
export interface QuerySet {
  total: number;
  selected: number;
}

/** A source of integer noise for one count; defaults to the policy's discrete Laplace. */
export type CountNoise = () => number;

function noiseOf(policy: OutputPolicy, given?: CountNoise): CountNoise {
  if (!policy.noise) return () => 0;
  if (given) return given;
  const epsilon = policy.noise.epsilon;
  return () => sampleDiscreteLaplace(epsilon);
}

/** Nearest multiple of base (halves round up); base 1 leaves the count alone. */
export function roundCount(count: number, base: number): number {
  if (base <= 1) return count;
  return Math.round(count / base) * base;
}

/**
 * Whether a sum/mean cell is dominated: its `n` largest contributions make up
 * at least `k` of the total. With fewer contributors than n, all of them are
 * the top n, so the cell is dominated.
 */
export function isDominated(top: number[], absTotal: number, rule: { n: number; k: number }): boolean {
  if (top.length < rule.n) return true;
  const largest = top.slice(0, rule.n).reduce((a, b) => a + b, 0);
  return largest >= rule.k * absTotal;
}

/**
 * Whether a sum/mean cell fails the p-ratio rule: the second-largest
 * contributor could estimate the largest to within `pRatio`, i.e.
 * (total − top1 − top2) / top1 < pRatio.
 */
export function failsPRatio(top: number[], absTotal: number, pRatio: number): boolean {
  const top1 = top[0] ?? 0;
  const top2 = top[1] ?? 0;
  if (top1 <= 0) return false;
  return (absTotal - top1 - top2) / top1 < pRatio;
}

interface Tally {
  checks: Map<string, CheckOutcome>;
}

function newTally(names: string[]): Tally {
  return { checks: new Map(names.map((check) => [check, { check, outcome: 'pass', cells: 0 }])) };
}

function mark(t: Tally, check: string, outcome: 'suppressed' | 'fail', cells = 1): void {
  const c = t.checks.get(check) ?? { check, outcome: 'pass', cells: 0 };
  c.cells += cells;
  if (c.outcome !== 'fail') c.outcome = outcome;
  t.checks.set(check, c);
}

function disclosureOf(policy: OutputPolicy, t: Tally, suppressedRows: number): ResultBody['disclosure'] {
  return { policy, checks: [...t.checks.values()], suppressedRows, rounded: policy.roundTo > 1, noise: policy.noise };
}

/** The query-set rule: with filters, the rows selected and the rows excluded must each reach minCellCount. */
function querySetHolds(policy: OutputPolicy, qs: QuerySet | undefined): boolean {
  if (!qs) return false;
  return qs.selected >= policy.minCellCount && qs.total - qs.selected >= policy.minCellCount;
}

function failed(base: Omit<ResultBody, 'status' | 'error'>, error: ResultErrorCode): ResultBody {
  return { ...base, status: 'fail', rows: [], error };
}

// Cells suppressed by these checks change what the table says beyond a dropped row;
// a policy that names reviewers gets a human to look for secondary disclosure.
const REVIEWABLE = ['zeros', 'dominance', 'pRatio'];

/**
 * Apply the output policy to a grouped aggregate. Groups whose (noised)
 * count is under minCellCount, before or after rounding, are dropped and
 * counted in `suppressedRows`; counts are rounded; a sum/mean cell with
 * fewer contributors than minCellCount, all-zero contributions, NK dominance
 * or a failing p-ratio is null, and so is a stddev/median cell with too few
 * contributors. Fails (no rows at all) on a differencing risk, on min/max
 * without allowExtremes, and above maxRows released rows. Status is `review`
 * when dominance, p-ratio or zeros suppressed a cell and the policy names
 * reviewers, `pass` otherwise.
 */
export function controlAggregate(input: {
  analysis: AggregateAnalysis;
  schema: DatasetColumn[];
  policy: OutputPolicy;
  groups: GroupStat[];
  querySet?: QuerySet;
  noise?: CountNoise;
}): ResultBody {
  const { analysis, policy } = input;
  const hasFilters = (analysis.filters ?? []).length > 0;
  const checkNames = [...(hasFilters ? ['querySet'] : []), 'minCellCount', 'zeros', 'dominance', 'pRatio', 'extremes', 'maxRows'];
  const t = newTally(checkNames);
  const columns = resultColumns(analysis, input.schema);
  const base = { columns, rows: [] as Cell[][] };

  if (hasFilters && !querySetHolds(policy, input.querySet)) {
    mark(t, 'querySet', 'fail');
    return failed({ ...base, disclosure: disclosureOf(policy, t, 0) }, 'DIFFERENCING_RISK');
  }
  const extremes = analysis.measures.filter((m) => m.fn === 'min' || m.fn === 'max').length;
  if (extremes > 0 && !policy.allowExtremes) {
    mark(t, 'extremes', 'fail', extremes);
    return failed({ ...base, disclosure: disclosureOf(policy, t, 0) }, 'EXTREMES_NOT_ALLOWED');
  }

  const noise = noiseOf(policy, input.noise);
  const rows: Cell[][] = [];
  let suppressedRows = 0;
  for (const g of input.groups) {
    const noisy = g.count + noise();
    const released = roundCount(noisy, policy.roundTo);
    if (noisy < policy.minCellCount || released < policy.minCellCount) {
      suppressedRows++;
      continue;
    }
    const cells: Cell[] = analysis.measures.map((m, i) => {
      if (m.fn === 'count') return released;
      const s = g.measures[i]!;
      if (s.contributors < policy.minCellCount) {
        mark(t, 'minCellCount', 'suppressed');
        return null;
      }
      if (m.fn !== 'sum' && m.fn !== 'mean') return s.value;
      const top = s.top ?? [];
      const total = s.absTotal ?? 0;
      if (total === 0) {
        mark(t, 'zeros', 'suppressed');
        return null;
      }
      if (isDominated(top, total, policy.dominance)) {
        mark(t, 'dominance', 'suppressed');
        return null;
      }
      if (failsPRatio(top, total, policy.pRatio)) {
        mark(t, 'pRatio', 'suppressed');
        return null;
      }
      return s.value;
    });
    rows.push([...g.key, ...cells]);
  }
  if (suppressedRows > 0) mark(t, 'minCellCount', 'suppressed', suppressedRows);
  if (rows.length > policy.maxRows) {
    mark(t, 'maxRows', 'fail', rows.length);
    return failed({ ...base, disclosure: disclosureOf(policy, t, suppressedRows) }, 'MAX_ROWS_EXCEEDED');
  }
  const needsReview = policy.review.reviewers.length > 0 && REVIEWABLE.some((c) => (t.checks.get(c)?.cells ?? 0) > 0);
  return { columns, rows, status: needsReview ? 'review' : 'pass', disclosure: disclosureOf(policy, t, suppressedRows) };
}

/** A fitted OLS model as the node computed it (intercept first), or why it could not be fitted. */
export type RegressionFit =
  | { ok: true; n: number; residualDf: number; terms: Array<{ term: string; estimate: number; stdError: number }> }
  | { ok: false; n: number; reason: 'singular' };

/**
 * Apply the output policy to a regression: the query-set rule when filtered,
 * then residual degrees of freedom ≥ minResidualDf (else `fail`,
 * RESIDUAL_DF_TOO_LOW); `n` is released noised (when the policy says so) and
 * rounded like any count.
 */
export function controlRegression(input: { analysis: RegressionAnalysis; policy: OutputPolicy; fit: RegressionFit; querySet?: QuerySet; noise?: CountNoise }): ResultBody {
  const { analysis, policy, fit } = input;
  const hasFilters = (analysis.filters ?? []).length > 0;
  const t = newTally([...(hasFilters ? ['querySet'] : []), 'residualDf']);
  const base = { columns: [...REGRESSION_RESULT_COLUMNS], rows: [] as Cell[][] };
  if (hasFilters && !querySetHolds(policy, input.querySet)) {
    mark(t, 'querySet', 'fail');
    return failed({ ...base, disclosure: disclosureOf(policy, t, 0) }, 'DIFFERENCING_RISK');
  }
  const p = analysis.predictors.length + 1;
  const residualDf = fit.ok ? fit.residualDf : fit.n - p;
  if (residualDf < policy.minResidualDf) {
    mark(t, 'residualDf', 'fail');
    return failed({ ...base, disclosure: disclosureOf(policy, t, 0) }, 'RESIDUAL_DF_TOO_LOW');
  }
  if (!fit.ok) return failed({ ...base, disclosure: disclosureOf(policy, t, 0) }, 'REGRESSION_SINGULAR');
  const n = roundCount(fit.n + noiseOf(policy, input.noise)(), policy.roundTo);
  return {
    ...base,
    rows: fit.terms.map((r) => [r.term, r.estimate, r.stdError]),
    n,
    residualDf: fit.residualDf,
    status: 'pass',
    disclosure: disclosureOf(policy, t, 0),
  };
}
