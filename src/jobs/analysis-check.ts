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
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function valueFits(type: DatasetColumn['type'], v: Scalar): boolean {
  switch (type) {
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'date': return typeof v === 'string' && DATE.test(v);
    default: return typeof v === 'string';
  }
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
      if (!valueFits(c.type, v)) errors.push({ pointer: `${base}/filters/${i}/value${Array.isArray(f.value) ? `/${j}` : ''}`, message: `not a ${c.type} value${c.type === 'date' ? ' (YYYY-MM-DD)' : ''}` });
    });
  });
  if (analysis.type === 'aggregate') {
    (analysis.groupBy ?? []).forEach((g, i) => void use(g, `${base}/groupBy/${i}`));
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
