import { DenialLimiter } from './denial-limiter.js';

describe('DenialLimiter', () => {
  it('records up to capacity, then suppresses and reports the count on the next recorded denial', () => {
    let t = 0;
    const l = new DenialLimiter({ capacity: 3, refillPerSecond: 1 }, () => t);
    expect([l.take('a'), l.take('a'), l.take('a')].every((x) => x.record)).toBe(true);
    expect(l.take('a')).toEqual({ record: false, suppressedBefore: 0 });
    expect(l.take('a')).toEqual({ record: false, suppressedBefore: 0 });
    expect(l.take('b').record).toBe(true); // buckets are per participant
    t = 1000;
    expect(l.take('a')).toEqual({ record: true, suppressedBefore: 2 });
    expect(l.take('a').record).toBe(false);
  });
});
