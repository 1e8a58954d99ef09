/**
 * The data the node works with: an analysis (what the consumer asked for,
 * `contracts/analysis.v1.schema.json`), the dataset's declared columns, the
 * contract's output policy with every default filled in, and the signed
 * `tds.result.v1` document the node posts back. Types and defaults only.
 */

import { completeOutputPolicy, DEFAULT_OUTPUT_POLICY, type OutputPolicy } from '../agreements/output-policy.js';

/** A declared column type of a dataset (`schema.columns[].type`). */
export type ColumnType = 'integer' | 'number' | 'string' | 'boolean' | 'date';

/** One declared column; `identifier` marks a direct identifier an analysis may never touch. */
export interface DatasetColumn {
  name: string;
  type: ColumnType;
  identifier?: boolean;
}

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

/** Anything a consumer may ask: no code, no SQL. */
export type Analysis = AggregateAnalysis | RegressionAnalysis;

/**
 * The output policy of a compute contract with every field present, and the
 * SPEC's defaults: one definition, the service's (a pure module), so the node
 * and the service can never disagree on a default.
 */
export type { OutputPolicy } from '../agreements/output-policy.js';
export { DEFAULT_OUTPUT_POLICY } from '../agreements/output-policy.js';

/**
 * The policy to apply: the contract's, with any missing field taken from the
 * defaults. The service already fills every default into the signed document;
 * filling again here means an older or partial document can never loosen a rule.
 */
export function effectivePolicy(given: Partial<OutputPolicy> | null | undefined): OutputPolicy {
  const p = given ?? {};
  return completeOutputPolicy({ ...p, dominance: { ...DEFAULT_OUTPUT_POLICY.dominance, ...(p.dominance ?? {}) } });
}

/** The document type of a result. */
export const RESULT_TYPE = 'tds.result.v1';

/** A released cell: null when suppressed. */
export type Cell = string | number | boolean | null;

/** One disclosure check's outcome and how many cells (or rows) it touched. */
export interface CheckOutcome {
  check: string;
  outcome: 'pass' | 'suppressed' | 'fail';
  cells: number;
}

/** The signed result document (`tds.result.v1`). */
export interface ResultDocument {
  type: typeof RESULT_TYPE;
  jobId: string;
  contractId: string;
  datasetSha256: string;
  analysisDigest: string;
  status: 'pass' | 'review' | 'fail';
  columns: Array<{ name: string; type: ColumnType }>;
  rows: Cell[][];
  /** Regressions only: rows used (rounded) and residual degrees of freedom. */
  n?: number;
  residualDf?: number;
  disclosure: {
    policy: OutputPolicy;
    checks: CheckOutcome[];
    suppressedRows: number;
    rounded: boolean;
    noise: OutputPolicy['noise'];
  };
  /** Why a `fail` result failed: a stable code (it becomes the job's reason), never data. */
  error?: { code: ResultErrorCode };
  producedAt: string;
}

/** The part of a result that disclosure control decides (the node adds the bindings, the time, and wraps `error` as {code}). */
export type ResultBody = Pick<ResultDocument, 'status' | 'columns' | 'rows' | 'n' | 'residualDf' | 'disclosure'> & { error?: ResultErrorCode };

/** Stable codes a failed result carries in `error`. */
export type ResultErrorCode =
  | 'DATASET_DIGEST_MISMATCH'
  | 'DATASET_NOT_FOUND'
  | 'DIFFERENCING_RISK'
  | 'RESIDUAL_DF_TOO_LOW'
  | 'REGRESSION_SINGULAR'
  | 'EXTREMES_NOT_ALLOWED'
  | 'MAX_ROWS_EXCEEDED'
  | 'TOO_MANY_GROUPS'
  | 'ANALYSIS_INVALID'
  | 'DATASET_SCHEMA_MISMATCH'
  | 'QUERY_TIMEOUT'
  | 'RESOURCE_LIMIT'
  | 'QUERY_FAILED';
