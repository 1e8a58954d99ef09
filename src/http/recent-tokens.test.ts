import { RecentTokens } from './recent-tokens.js';

describe('RecentTokens', () => {
  it('says fresh once, then replayed until the token expires', () => {
    let t = 1000;
    const r = new RecentTokens(10, () => t);
    expect(r.remember('alice', 'j1', 2000)).toBe('fresh');
    expect(r.remember('alice', 'j1', 2000)).toBe('replayed');
    expect(r.remember('bob', 'j1', 2000)).toBe('fresh');
    t = 2001;
    // Expired: the token itself no longer passes the expiry check, so forgetting it is safe.
    expect(r.remember('alice', 'j1', 3000)).toBe('fresh');
  });

  it('answers full rather than forgetting an unexpired id, and frees expired ones first', () => {
    let t = 0;
    const r = new RecentTokens(3, () => t);
    for (const j of ['a', 'b', 'c']) expect(r.remember('p', j, 100)).toBe('fresh');
    expect(r.remember('p', 'd', 100)).toBe('full');
    expect(r.remember('p', 'a', 100)).toBe('replayed');
    t = 101;
    expect(r.remember('p', 'd', 200)).toBe('fresh');
    expect(r.size).toBeLessThanOrEqual(3);
  });
});
