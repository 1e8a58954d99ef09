/**
 * The reason codes a rejected, failed or expired job carries, in words for
 * the people reading the job page (the code stays beside them: it is what
 * the ledger, the API and the CLI show). The codes are those of a failed
 * result (docs/compute.md), of a review, and of the service's own stops.
 */
const REASONS: Record<string, string> = {
  REVIEW_REJECTED: 'a reviewer named in the output policy rejected the result',
  RESULT_FAILED: 'the data node reported a failed result without a code',
  DIFFERENCING_RISK: 'the filter would let someone work out a small group by difference (rows selected or excluded under the minimum count)',
  EXTREMES_NOT_ALLOWED: 'the analysis asks for a minimum or maximum, which releases one person\u2019s value, and the policy does not allow it',
  MAX_ROWS_EXCEEDED: 'the result would have more rows than the policy allows',
  RESIDUAL_DF_TOO_LOW: 'the regression has too few residual degrees of freedom for the policy',
  REGRESSION_SINGULAR: 'the regression cannot be solved (its predictors are collinear)',
  TOO_MANY_GROUPS: 'the analysis makes too many groups (over 100,000 before disclosure control)',
  DATASET_DIGEST_MISMATCH: 'the provider\u2019s file is not the one the contract names (its SHA-256 differs)',
  DATASET_NOT_FOUND: 'the data node has no file for this dataset',
  DATASET_SCHEMA_MISMATCH: 'the file does not parse with the column types the dataset declares',
  ANALYSIS_INVALID: 'the data node found the analysis invalid for this dataset',
  QUERY_TIMEOUT: 'the analysis ran out of time at the data node',
  RESOURCE_LIMIT: 'the analysis ran out of memory or CPU at the data node',
  QUERY_FAILED: 'the analysis failed at the data node',
  CONTRACT_REVOKED: 'the contract was revoked before the result could be released',
  DATASET_WITHDRAWN: 'the dataset was withdrawn before the result could be released',
  RELEASE_EXPIRED: 'the release token expired without being used',
};

/** "words (CODE)" for a known code, the code alone otherwise. */
export function reasonText(code: string): string {
  const words = Object.prototype.hasOwnProperty.call(REASONS, code) ? REASONS[code] : undefined;
  return words ? `${words} (${code})` : code;
}
