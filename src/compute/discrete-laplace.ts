/**
 * Exact sampling of the discrete Laplace distribution on the integers,
 * P(Y = y) ∝ exp(−ε·|y|), after Canonne, Kamath and Steinke, "The Discrete
 * Gaussian for Differential Privacy" (2020), Algorithms 1 and 2. Only integer
 * uniform draws from a cryptographic RNG are used (crypto.randomInt), so the
 * output distribution is exactly the stated one: no floating-point Laplace is
 * rounded, which would leak through the gaps of the floating-point grid.
 * Added to a count (sensitivity 1) it gives ε-differential privacy.
 */
import { randomInt } from 'node:crypto';

/** A source of uniform integers in [0, maxExclusive); injectable so tests can script the draws. */
export type RandomInt = (maxExclusive: number) => number;

const cryptoRandomInt: RandomInt = (maxExclusive) => randomInt(maxExclusive);

/** Denominator of the rational ε actually used: ε is taken as floor(ε·10⁶)/10⁶, never larger than stated. */
export const EPSILON_DENOMINATOR = 1_000_000;

/** Bernoulli(num/den) for integers 0 ≤ num ≤ den. */
function bernoulli(num: number, den: number, rnd: RandomInt): boolean {
  return rnd(den) < num;
}

/** Bernoulli(exp(−num/den)) for rational num/den ≥ 0 (CKS Algorithm 1). */
export function bernoulliExpNeg(num: number, den: number, rnd: RandomInt = cryptoRandomInt): boolean {
  let n = num;
  // exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ−⌊γ⌋)): each whole unit is one more Bernoulli(exp(−1)).
  while (n > den) {
    if (!bernoulliExpNeg(1, 1, rnd)) return false;
    n -= den;
  }
  // For γ ∈ [0, 1]: draw A_k ~ Bernoulli(γ/k) until the first 0; return whether that k is odd.
  let k = 1;
  while (bernoulli(n, den * k, rnd)) k++;
  return k % 2 === 1;
}

/**
 * One draw of the discrete Laplace with P(Y = y) ∝ exp(−(s/t)·|y|), for
 * positive integers s and t (CKS Algorithm 2).
 */
export function sampleDiscreteLaplaceRational(s: number, t: number, rnd: RandomInt = cryptoRandomInt): number {
  if (!Number.isSafeInteger(s) || !Number.isSafeInteger(t) || s < 1 || t < 1) throw new RangeError('s and t must be positive integers');
  for (;;) {
    const u = rnd(t);
    if (!bernoulliExpNeg(u, t, rnd)) continue;
    let v = 0;
    while (bernoulliExpNeg(1, 1, rnd)) v++;
    const x = u + t * v;
    const y = Math.floor(x / s);
    const negative = rnd(2) === 1;
    // Both signs of zero would double its probability: reject one of them.
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/**
 * The rational (s, t) with s/t ≤ ε used for a given ε: t = 10⁶ and
 * s = ⌊ε·10⁶⌋, so rounding only ever adds privacy. Throws for ε below 10⁻⁶
 * or not finite.
 */
export function epsilonAsRational(epsilon: number): { s: number; t: number } {
  if (!Number.isFinite(epsilon) || epsilon <= 0) throw new RangeError('epsilon must be a positive number');
  // The tiny bias keeps 0.3 * 1e6 = 299999.99999999994 from flooring to 299999.
  const s = Math.floor(epsilon * EPSILON_DENOMINATOR + 1e-9);
  if (s < 1) throw new RangeError(`epsilon must be at least ${1 / EPSILON_DENOMINATOR}`);
  return { s, t: EPSILON_DENOMINATOR };
}

/** One draw of discrete Laplace noise for privacy parameter ε (sensitivity 1). */
export function sampleDiscreteLaplace(epsilon: number, rnd: RandomInt = cryptoRandomInt): number {
  const { s, t } = epsilonAsRational(epsilon);
  return sampleDiscreteLaplaceRational(s, t, rnd);
}
