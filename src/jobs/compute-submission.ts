/**
 * What a job request adds on a compute contract: the analysis, checked
 * against the dataset's declared columns and the signed output policy, and
 * its digest. A compute contract needs an analysis and a download contract
 * refuses one (both 400 VALIDATION_FAILED, pointer /analysis). Pure: no I/O.
 */
import { invalidField } from '../errors.js';
import { declaredColumns } from '../agreements/compute-terms.js';
import { completeOutputPolicy, type OutputPolicyInput } from '../agreements/output-policy.js';
import { analysisDigestOf, checkAnalysis, type Analysis } from './analysis-check.js';

/** The compute part of an authorized job. */
export interface ComputeSubmission {
  analysis: Analysis;
  analysisDigest: string;
}

/** The facts of the contract this needs (from the release facts read). */
export interface ComputeFacts {
  access: 'compute' | 'download';
  output_policy: Record<string, unknown> | null;
  dataset_schema: unknown;
}

/** The checked compute submission, or null for a download contract; throws VALIDATION_FAILED. */
export function computeSubmissionOf(f: ComputeFacts, analysis: Analysis | undefined): ComputeSubmission | null {
  if (f.access !== 'compute') {
    if (analysis !== undefined) throw invalidField('/analysis', 'not allowed on a download contract', 'this is a download contract: a job on it carries no analysis');
    return null;
  }
  if (analysis === undefined) throw invalidField('/analysis', 'required on a compute contract', 'this is a compute contract: the job must carry an analysis');
  const columns = declaredColumns(f.dataset_schema);
  // A compute offer was only accepted with declared columns; without them nothing can be checked: refuse.
  if (!columns) throw invalidField('/analysis', 'the dataset declares no schema.columns', 'the dataset declares no columns to check the analysis against');
  checkAnalysis(analysis, columns, completeOutputPolicy((f.output_policy ?? {}) as OutputPolicyInput));
  return { analysis, analysisDigest: analysisDigestOf(analysis) };
}
