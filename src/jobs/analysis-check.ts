/**
 * The check of an analysis against the dataset's declared columns and the
 * contract's output policy, at submission: every column exists, no direct
 * identifier is grouped by, filtered on or measured, numbers are asked only
 * of numeric columns, filter values fit their column's type, and `min`/`max`
 * (one person's value) only when the policy allows extremes. All problems
 * are reported at once, each with a JSON pointer into the request body.
 * Pure: no I/O.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import { validationFailed } from '../errors.js';
import type { DatasetColumn } from '../agreements/compute-terms.js';

type Scalar = string | number | boolean;

/** A filter literal: a scalar, or a list of scalars for `in`. */
export type FilterValue = string | number | boolean | Array<string | number | boolean>;

/** One filter; filters combine with AND. */
export interface Filter {
  column: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
  value: FilterValue;
}

/** An aggregate function on a column. */
export type ColumnFn = 'sum' | 'mean' | 'stddev' | 'median' | 'min' | 'max';

/** One measure: a row count, or a function of a column. */
export type Measure = { fn: 'count' } | { fn: ColumnFn; column: string };

/** A grouped aggregate. */
export interface AggregateAnalysis {
  type: 'aggregate';
  filters?: Filter[];
  groupBy?: string[];
  measures: Measure[];
}

/** An ordinary least-squares regression with an intercept. */
export interface RegressionAnalysis {
  type: 'regression';
  model: 'ols';
  outcome: string;
  predictors: string[];
  filters?: Filter[];
}

/** An analysis (contracts/analysis.v1), already schema-checked: anything a consumer may ask, no code, no SQL. */
export type Analysis = AggregateAnalysis | RegressionAnalysis;

/** SHA-256 hex of the analysis's RFC 8785 bytes: what the result and the ledger bind to. */
export function analysisDigestOf(analysis: Analysis): string {
  return toHex(sha256(utf8(canonicalize(analysis))));
}

const NUMERIC = new Set(['integer', 'number']);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const VALUE_HINT: Partial<Record<DatasetColumn['type'], string>> = {
  integer: ' (a whole number within ±(2^53 − 1))',
  date: ' (a calendar date YYYY-MM-DD, years 0001-9999)',
};

/** A calendar date `YYYY-MM-DD` that exists (no 2020-02-30), years 0001-9999. */
function isCalendarDate(v: string): boolean {
  const m = DATE.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1) return false;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/**
 * Whether a filter literal fits its column's type as the node casts it: a
 * safe integer, a finite number, a boolean, a real calendar date, a string.
 * One definition for the submission check and the node's compiler, so a value
 * accepted here (and an invocation counted for it) never fails at the node.
 */
export function filterValueFits(type: DatasetColumn['type'], v: unknown): v is Scalar {
  switch (type) {
    case 'integer': return typeof v === 'number' && Number.isSafeInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'date': return typeof v === 'string' && isCalendarDate(v);
    default: return typeof v === 'string';
  }
}

/** The result column of a measure: `count`, or `<fn>_<column>` (e.g. `mean_los_days`). */
export function measureColumnName(m: Measure): string {
  return m.fn === 'count' ? 'count' : `${m.fn}_${m.column}`;
}

/**
 * Throw VALIDATION_FAILED with pointers (prefixed by `base`, e.g. '/analysis')
 * unless the analysis may run on these columns under this policy.
 */
export function checkAnalysis(analysis: Analysis, columns: readonly DatasetColumn[], policy: { allowExtremes: boolean }, base = '/analysis'): void {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const errors: Array<{ pointer: string; message: string }> = [];
  const use = (name: string, pointer: string, need?: 'numeric'): DatasetColumn | undefined => {
    const c = byName.get(name);
    if (!c) errors.push({ pointer, message: `unknown column ${name}` });
    else if (c.identifier) errors.push({ pointer, message: `${name} is a direct identifier: it may not be used` });
    else if (need === 'numeric' && !NUMERIC.has(c.type)) errors.push({ pointer, message: `${name} is ${c.type}, a numeric column is needed` });
    else return c;
    return undefined;
  };
  (analysis.filters ?? []).forEach((f, i) => {
    const c = use(f.column, `${base}/filters/${i}/column`);
    if (!c) return;
    const ordered = f.op === '<' || f.op === '<=' || f.op === '>' || f.op === '>=';
    if (ordered && (c.type === 'boolean' || c.type === 'string')) errors.push({ pointer: `${base}/filters/${i}/op`, message: `${f.op} does not apply to a ${c.type} column` });
    const values = Array.isArray(f.value) ? f.value : [f.value];
    values.forEach((v, j) => {
      if (!filterValueFits(c.type, v)) errors.push({ pointer: `${base}/filters/${i}/value${Array.isArray(f.value) ? `/${j}` : ''}`, message: `not a ${c.type} value${VALUE_HINT[c.type] ?? ''}` });
    });
  });
  if (analysis.type === 'aggregate') {
    (analysis.groupBy ?? []).forEach((g, i) => void use(g, `${base}/groupBy/${i}`));
    // Every result column has its own name (a client reads cells by name): no measure twice, none named like a group column.
    const named = new Set(analysis.groupBy ?? []);
    analysis.measures.forEach((m, i) => {
      const name = measureColumnName(m);
      if (named.has(name)) errors.push({ pointer: `${base}/measures/${i}`, message: `a second result column named ${name}` });
      named.add(name);
    });
    analysis.measures.forEach((m, i) => {
      if (m.fn === 'count') return;
      use(m.column, `${base}/measures/${i}/column`, 'numeric');
      if ((m.fn === 'min' || m.fn === 'max') && !policy.allowExtremes) {
        errors.push({ pointer: `${base}/measures/${i}/fn`, message: `${m.fn} releases one person's value: the contract's outputPolicy does not allow extremes` });
      }
    });
  } else {
    use(analysis.outcome, `${base}/outcome`, 'numeric');
    analysis.predictors.forEach((p, i) => {
      use(p, `${base}/predictors/${i}`, 'numeric');
      if (p === analysis.outcome) errors.push({ pointer: `${base}/predictors/${i}`, message: 'the outcome cannot also be a predictor' });
    });
  }
  if (errors.length > 0) {
    throw validationFailed(`the analysis does not fit the dataset's columns or the contract's policy: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, errors);
  }
}
