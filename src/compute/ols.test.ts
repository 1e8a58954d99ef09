import { cholesky, fitOls, statisticsOfRows } from './ols.js';

const x1 = [1, 2, 3, 4, 5, 6, 7, 8];
const x2 = [2, 1, 4, 3, 6, 5, 8, 9];
const y = [3.1, 3.9, 7.2, 7.8, 11.1, 11.0, 15.2, 16.9];

describe('OLS from centred sufficient statistics', () => {
  test('one predictor: slope = Sxy/Sxx by hand, standard errors as numpy lstsq gives them', () => {
    const fit = fitOls(statisticsOfRows(['x1'], y, x1.map((v) => [v])));
    if (!fit.ok) throw new Error('expected a fit');
    // x̄ = 4.5, Sxx = 42, ȳ = 9.525, Sxy = 83.9: slope 1.997619..., intercept 9.525 - 4.5·slope.
    expect(fit.terms[1]!.estimate).toBeCloseTo(83.9 / 42, 10);
    expect(fit.terms[0]!.estimate).toBeCloseTo(9.525 - 4.5 * (83.9 / 42), 10);
    expect(fit.terms[0]!.stdError).toBeCloseTo(0.70807819, 7);
    expect(fit.terms[1]!.stdError).toBeCloseTo(0.14022038, 7);
    expect(fit.residualDf).toBe(6);
    expect(fit.terms.map((t) => t.term)).toEqual(['intercept', 'x1']);
  });

  test('two predictors match numpy (lstsq, sigma² (XᵀX)⁻¹)', () => {
    const fit = fitOls(statisticsOfRows(['x1', 'x2'], y, x1.map((v, i) => [v, x2[i]!])));
    if (!fit.ok) throw new Error('expected a fit');
    const expected = [[0.59215686, 0.22202452], [1.15098039, 0.12128049], [0.79019608, 0.10550404]];
    fit.terms.forEach((t, i) => {
      expect(t.estimate).toBeCloseTo(expected[i]![0]!, 7);
      expect(t.stdError).toBeCloseTo(expected[i]![1]!, 7);
    });
    expect(fit.residualDf).toBe(5);
  });

  test('collinear predictors and no residual df are singular', () => {
    expect(fitOls(statisticsOfRows(['a', 'b'], y, x1.map((v) => [v, 2 * v]))).ok).toBe(false);
    expect(fitOls(statisticsOfRows(['a'], [1, 2], [[1], [2]])).ok).toBe(false);
    expect(cholesky([[4, 2], [2, 3]])).toEqual([[2, 0], [1, Math.sqrt(2)]]);
    expect(cholesky([[1, 1], [1, 1]])).toBeNull();
  });
});
