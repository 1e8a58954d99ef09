/**
 * Ordinary least squares with an intercept from centred sufficient
 * statistics (n, means, the predictors' centred cross-product matrix, their
 * centred cross-products with the outcome, and the outcome's centred sum of
 * squares), which DuckDB computes next to the data so no row leaves the
 * sandbox. Solved by Cholesky decomposition; a design that is not positive
 * definite (collinear or constant predictors) is reported as singular.
 */
import type { RegressionFit } from './disclosure-control.js';

/** Sufficient statistics of an OLS fit; `sxx[i][j]` = Σ (x_i − x̄_i)(x_j − x̄_j). */
export interface OlsStatistics {
  n: number;
  predictors: string[];
  meanY: number;
  meanX: number[];
  sxx: number[][];
  sxy: number[];
  syy: number;
}

/** Lower-triangular L with L·Lᵀ = a, or null when a is not (numerically) positive definite. */
export function cholesky(a: number[][]): number[][] | null {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        // Relative tolerance: a pivot this small against the diagonal means collinearity.
        if (!(s > 1e-10 * Math.max(1, Math.abs(a[i]![i]!)))) return null;
        l[i]![i] = Math.sqrt(s);
      } else {
        l[i]![j] = s / l[j]![j]!;
      }
    }
  }
  return l;
}

/** Inverse of a symmetric positive-definite matrix from its Cholesky factor. */
function inverseFromCholesky(l: number[][]): number[][] {
  const n = l.length;
  // Invert L (lower triangular), then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    li[i]![i] = 1 / l[i]![i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i]![k]! * li[k]![j]!;
      li[i]![j] = -s / l[i]![i]!;
    }
  }
  const inv = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < n; k++) s += li[k]![i]! * li[k]![j]!;
      inv[i]![j] = s;
    }
  }
  return inv;
}

/**
 * Fit y = b0 + Σ b_i·x_i: estimates and standard errors, intercept first,
 * residual df = n − p (p counting the intercept). Singular when the design
 * is not positive definite or leaves no residual degree of freedom.
 */
export function fitOls(s: OlsStatistics): RegressionFit {
  const p = s.predictors.length + 1;
  const df = s.n - p;
  const l = s.predictors.length > 0 ? cholesky(s.sxx) : [];
  if (l === null || df < 1) return { ok: false, n: s.n, reason: 'singular' };
  const inv = inverseFromCholesky(l);
  const k = s.predictors.length;
  const b = inv.map((row) => row.reduce((acc, v, j) => acc + v * s.sxy[j]!, 0));
  const rss = Math.max(0, s.syy - b.reduce((acc, v, i) => acc + v * s.sxy[i]!, 0));
  const sigma2 = rss / df;
  const b0 = s.meanY - b.reduce((acc, v, i) => acc + v * s.meanX[i]!, 0);
  let quad = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) quad += s.meanX[i]! * inv[i]![j]! * s.meanX[j]!;
  const terms = [
    { term: 'intercept', estimate: b0, stdError: Math.sqrt(sigma2 * (1 / s.n + quad)) },
    ...s.predictors.map((term, i) => ({ term, estimate: b[i]!, stdError: Math.sqrt(sigma2 * inv[i]![i]!) })),
  ];
  if (terms.some((t) => !Number.isFinite(t.estimate) || !Number.isFinite(t.stdError))) return { ok: false, n: s.n, reason: 'singular' };
  return { ok: true, n: s.n, residualDf: df, terms };
}

/** Centred statistics of rows given in memory (tests and the unsandboxed reference path). */
export function statisticsOfRows(predictors: string[], y: number[], xs: number[][]): OlsStatistics {
  const n = y.length;
  const k = predictors.length;
  const meanY = y.reduce((a, b) => a + b, 0) / n;
  const meanX = Array.from({ length: k }, (_, i) => xs.reduce((a, r) => a + r[i]!, 0) / n);
  const sxx = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => xs.reduce((a, r) => a + (r[i]! - meanX[i]!) * (r[j]! - meanX[j]!), 0)));
  const sxy = Array.from({ length: k }, (_, i) => xs.reduce((a, r, row) => a + (r[i]! - meanX[i]!) * (y[row]! - meanY), 0));
  const syy = y.reduce((a, v) => a + (v - meanY) ** 2, 0);
  return { n, predictors, meanY, meanX, sxx, sxy, syy };
}
