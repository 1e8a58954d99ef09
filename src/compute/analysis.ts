/**
 * The data the node works with: an analysis (what the consumer asked for,
 * `contracts/analysis.v1.schema.json`), the dataset's declared columns, the
 * contract's output policy with every default filled in, and the signed
 * `tds.result.v1` document the node posts back. Types and defaults only.
 */

import type { DatasetV1Column, ResultV1 } from '../generated/contracts.js';
import { completeOutputPolicy, DEFAULT_OUTPUT_POLICY, type OutputPolicy } from '../agreements/output-policy.js';

/** One declared column (dataset.v1 `$defs/column`); `identifier` marks a direct identifier an analysis may never touch. */
export type DatasetColumn = DatasetV1Column;

/** A declared column type of a dataset (`schema.columns[].type`). */
export type ColumnType = DatasetColumn['type'];

/** What a consumer may ask (analysis.v1): declared once, beside the service's check of it. */
export type { Analysis, AggregateAnalysis, RegressionAnalysis, Filter, FilterValue, ColumnFn, Measure } from '../jobs/analysis-check.js';

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

/**
 * The signed result document (`tds.result.v1`, the generated ResultV1) as the
 * node builds it: the same shape, with the parts the node decides narrowed to
 * what it writes (the complete output policy, its check outcomes, rounding as
 * a flag, a stable error code that becomes the job's reason, never data).
 */
export type ResultDocument = Omit<ResultV1, 'disclosure' | 'error'> & {
  disclosure: Omit<ResultV1['disclosure'], 'policy' | 'checks' | 'rounded' | 'noise'> & {
    policy: OutputPolicy;
    checks: CheckOutcome[];
    rounded: boolean;
    noise: OutputPolicy['noise'];
  };
  error?: { code: ResultErrorCode };
};

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
