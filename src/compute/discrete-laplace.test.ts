import { bernoulliExpNeg, epsilonAsRational, sampleDiscreteLaplace, sampleDiscreteLaplaceRational, type RandomInt } from './discrete-laplace.js';

/** An RNG that returns scripted draws in order (each checked to be in range). */
function scripted(draws: number[]): RandomInt & { left: () => number } {
  let i = 0;
  const f = ((max: number) => {
    if (i >= draws.length) throw new Error('script exhausted');
    const d = draws[i++]!;
    if (d < 0 || d >= max) throw new Error(`draw ${d} out of range [0, ${max})`);
    return d;
  }) as RandomInt & { left: () => number };
  f.left = () => draws.length - i;
  return f;
}

describe('discrete Laplace sampling', () => {
  test('epsilon is taken as a rational never above the stated value', () => {
    expect(epsilonAsRational(0.5)).toEqual({ s: 500000, t: 1000000 });
    expect(epsilonAsRational(0.3)).toEqual({ s: 300000, t: 1000000 });
    expect(epsilonAsRational(1.0000004).s).toBe(1000000);
    expect(() => epsilonAsRational(0)).toThrow(RangeError);
    expect(() => epsilonAsRational(1e-7)).toThrow(RangeError);
    expect(() => epsilonAsRational(Number.NaN)).toThrow(RangeError);
  });

  test('Bernoulli(exp(-γ)) follows Algorithm 1 on scripted draws', () => {
    // γ = 1/2: A1 ~ Bern(1/2) draws 0 of 2 (<1: true), A2 ~ Bern(1/4) draws 3 of 4 (false) -> k = 2, even -> false.
    expect(bernoulliExpNeg(1, 2, scripted([0, 3]))).toBe(false);
    // First draw fails at once -> k = 1, odd -> true.
    expect(bernoulliExpNeg(1, 2, scripted([1]))).toBe(true);
    // γ = 3/2: one Bernoulli(exp(-1)) first; its A1 = Bern(1/1) always true (draw 0 of 1), A2 = Bern(1/2) false (1 of 2) -> k=2 -> false -> whole false.
    expect(bernoulliExpNeg(3, 2, scripted([0, 1]))).toBe(false);
  });

  test('a scripted run of Algorithm 2 gives the value the algorithm defines', () => {
    // s = 1, t = 2 (ε = 1/2). U = 1; D = Bern(exp(-1/2)): A1 draw 1 of 2 -> false -> k=1 -> D = 1.
    // V loop: Bern(exp(-1)): A1 draw 0 of 1 true, A2 draw 0 of 2 true, A3 draw 2 of 3 false -> k=3 odd -> true, V=1;
    // next Bern(exp(-1)): A1 0 of 1 true, A2 1 of 2 false -> k=2 -> false: stop. X = 1 + 2*1 = 3, Y = 3, B draw 1 -> -3.
    const rnd = scripted([1, 1, 0, 0, 2, 0, 1, 1]);
    expect(sampleDiscreteLaplaceRational(1, 2, rnd)).toBe(-3);
    expect(rnd.left()).toBe(0);
  });

  test('negative zero is rejected and the loop restarts', () => {
    // U = 0 (D: Bern(exp(0)) -> A1 = Bern(0/1): draw 0 of 1 is not < 0 -> k=1 -> true); V: first Bern(exp(-1)) false (A1 true, A2 false);
    // Y = 0, B = 1 -> reject. Second round identical but B = 0 -> 0.
    const round = (b: number) => [0, 0, 0, 1, b];
    const rnd = scripted([...round(1), ...round(0)]);
    expect(sampleDiscreteLaplaceRational(1, 1, rnd)).toBe(0);
    expect(rnd.left()).toBe(0);
  });

  test('samples are integers whose distribution matches exp(-ε|y|) (20 000 draws, 5 sigma bounds)', () => {
    const epsilon = 0.5;
    const n = 20000;
    const q = Math.exp(-epsilon);
    const p0 = (1 - q) / (1 + q);
    const variance = (2 * q) / (1 - q) ** 2;
    let zeros = 0;
    let sum = 0;
    let sumSq = 0;
    let positive = 0;
    let negative = 0;
    for (let i = 0; i < n; i++) {
      const y = sampleDiscreteLaplace(epsilon);
      expect(Number.isInteger(y)).toBe(true);
      if (y === 0) zeros++;
      if (y > 0) positive++;
      if (y < 0) negative++;
      sum += y;
      sumSq += y * y;
    }
    const sdZeros = Math.sqrt(n * p0 * (1 - p0));
    expect(Math.abs(zeros - n * p0)).toBeLessThan(5 * sdZeros);
    expect(Math.abs(sum / n)).toBeLessThan(5 * Math.sqrt(variance / n));
    // The variance estimate: its own sd is about sqrt((κ-1)/n)·σ² with kurtosis κ ≈ 6 for a Laplace.
    expect(Math.abs(sumSq / n - variance)).toBeLessThan(5 * Math.sqrt(5 / n) * variance);
    // Symmetric: as many above zero as below.
    expect(Math.abs(positive - negative)).toBeLessThan(5 * Math.sqrt(positive + negative));
  });
});
