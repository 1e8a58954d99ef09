import { completeOutputPolicy, defaultAccess, DEFAULT_OUTPUT_POLICY, privacyLossBound } from './output-policy.js';

describe('output policy', () => {
  it('fills every default of the SPEC table', () => {
    expect(completeOutputPolicy()).toEqual({
      minCellCount: 10, roundTo: 5, dominance: { n: 2, k: 0.9 }, pRatio: 0.1, minResidualDf: 10,
      allowExtremes: false, maxRows: 5000, noise: null, review: { approvals: 0, reviewers: [] },
    });
  });

  it('keeps what the provider set and fills the rest', () => {
    const p = completeOutputPolicy({ minCellCount: 20, noise: { mechanism: 'discrete-laplace', epsilon: 0.5 }, review: { approvals: 1, reviewers: ['r'] } });
    expect(p.minCellCount).toBe(20);
    expect(p.roundTo).toBe(5);
    expect(p.noise).toEqual({ mechanism: 'discrete-laplace', epsilon: 0.5 });
    expect(p.review).toEqual({ approvals: 1, reviewers: ['r'] });
    expect(completeOutputPolicy({ review: { reviewers: ['a'] } }).review).toEqual({ approvals: 0, reviewers: ['a'] });
  });

  it('never shares the defaults object', () => {
    const p = completeOutputPolicy();
    p.review.reviewers.push('x');
    p.dominance.n = 7;
    expect(DEFAULT_OUTPUT_POLICY.review.reviewers).toEqual([]);
    expect(DEFAULT_OUTPUT_POLICY.dominance.n).toBe(2);
  });

  it('defaults access by dataset kind', () => {
    expect(defaultAccess('raw')).toBe('compute');
    expect(defaultAccess('insight')).toBe('download');
  });

  it('bounds the privacy loss by maxInvocations × epsilon, only with noise', () => {
    expect(privacyLossBound(completeOutputPolicy(), 10)).toBeNull();
    expect(privacyLossBound(completeOutputPolicy({ noise: { mechanism: 'discrete-laplace', epsilon: 0.1 } }), 3)).toBe(0.3);
    expect(privacyLossBound(completeOutputPolicy({ noise: { mechanism: 'discrete-laplace', epsilon: 1.5 } }), 4)).toBe(6);
  });
});
