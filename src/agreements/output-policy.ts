/**
 * The output policy of a compute offer: statistical disclosure control that
 * the contract fixes. Every field is optional on input; the defaults (after
 * SACRO/ACRO) are filled in before the offer is stored, so the terms both
 * parties sign are explicit and a later change of defaults cannot alter a
 * signed contract. Pure: no I/O.
 */

/** How an offer's dataset is used: run at the provider, or downloaded with a release token. */
export type Access = 'compute' | 'download';

/** Noise on counts (sensitivity 1), applied before thresholding and rounding. */
export interface NoiseSpec {
  mechanism: 'discrete-laplace';
  epsilon: number;
}

/** An output policy with every field present (as signed in a contract). */
export interface OutputPolicy {
  minCellCount: number;
  roundTo: number;
  dominance: { n: number; k: number };
  pRatio: number;
  minResidualDf: number;
  allowExtremes: boolean;
  maxRows: number;
  noise: NoiseSpec | null;
  review: { approvals: number; reviewers: string[] };
}

/** An output policy as a provider sends it (schema contracts/output-policy.v1). */
export type OutputPolicyInput = Partial<Omit<OutputPolicy, 'review'>> & { review?: Partial<OutputPolicy['review']> };

/** The defaults of the SPEC's table. */
export const DEFAULT_OUTPUT_POLICY: Readonly<OutputPolicy> = Object.freeze({
  minCellCount: 10,
  roundTo: 5,
  dominance: { n: 2, k: 0.9 },
  pRatio: 0.1,
  minResidualDf: 10,
  allowExtremes: false,
  maxRows: 5000,
  noise: null,
  review: { approvals: 0, reviewers: [] },
});

/** The policy with every default filled in (fresh objects: the result may be stored and signed). */
export function completeOutputPolicy(input: OutputPolicyInput = {}): OutputPolicy {
  const d = DEFAULT_OUTPUT_POLICY;
  return {
    minCellCount: input.minCellCount ?? d.minCellCount,
    roundTo: input.roundTo ?? d.roundTo,
    dominance: input.dominance ? { n: input.dominance.n, k: input.dominance.k } : { ...d.dominance },
    pRatio: input.pRatio ?? d.pRatio,
    minResidualDf: input.minResidualDf ?? d.minResidualDf,
    allowExtremes: input.allowExtremes ?? d.allowExtremes,
    maxRows: input.maxRows ?? d.maxRows,
    noise: input.noise ? { mechanism: input.noise.mechanism, epsilon: input.noise.epsilon } : null,
    review: { approvals: input.review?.approvals ?? d.review.approvals, reviewers: [...(input.review?.reviewers ?? d.review.reviewers)] },
  };
}

/** The access an offer gets when it names none: compute for raw data, download for insight data. */
export function defaultAccess(datasetKind: 'raw' | 'insight'): Access {
  return datasetKind === 'raw' ? 'compute' : 'download';
}

/**
 * The total privacy loss a contract allows when its policy adds noise:
 * maxInvocations × epsilon (sequential composition), or null without noise.
 * Rounded to 12 significant digits so that binary floating-point residue
 * (0.1 × 3 = 0.30000000000000004) does not end up in the signed terms.
 */
export function privacyLossBound(policy: OutputPolicy, maxInvocations: number): number | null {
  if (!policy.noise) return null;
  return Number((maxInvocations * policy.noise.epsilon).toPrecision(12));
}
