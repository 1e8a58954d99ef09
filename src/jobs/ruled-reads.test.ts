import { KEEP_MS, RuledReads, keepUntil } from './ruled-reads.js';
import type { RuledFacts } from './release.store.js';

const T0 = Date.parse('2026-12-02T08:00:00.000Z');

function read(over: Partial<RuledFacts> = {}): RuledFacts {
  return { now: new Date(T0), own: [], counts: [], rules: [], released_version: '0', ...over };
}

const dataset = (offerUntil: string | null) => ({ id: 'd', research_field: 'f', kind: 'raw' as const, published_at: '2026-01-01T00:00:00Z', status: 'published', has_offer: offerUntil !== null, offer_until: offerUntil, proven: true });

describe('kept ruled reads', () => {
  it('are kept at most KEEP_MS, and no longer than the first of the requester\'s own offers ends', () => {
    expect(keepUntil(read(), 1000)).toBe(1000 + KEEP_MS);
    expect(keepUntil(read({ own: [dataset(null)] }), 1000)).toBe(1000 + KEEP_MS);
    // 300 ms on the database's clock from the read, whatever this process's clock says.
    expect(keepUntil(read({ own: [dataset(new Date(T0 + 300).toISOString()), dataset(new Date(T0 + 60_000).toISOString())] }), 1000)).toBe(1300);
  });

  it('answer until then, not after, and are dropped when forgotten', () => {
    const kept = new RuledReads();
    kept.keep('c', read({ own: [dataset(new Date(T0 + 300).toISOString())] }), 1000);
    expect(kept.get('c', 1299)).not.toBeNull();
    expect(kept.get('c', 1300)).toBeNull();
    expect(kept.get('c', 1000)).toBeNull();
    kept.keep('c', read(), 1000);
    kept.forget('c');
    expect(kept.get('c', 1001)).toBeNull();
  });

  it('count the releases made on them', () => {
    const kept = new RuledReads();
    kept.keep('c', read({ counts: [{ research_field: 'f', kind: 'raw', received: 2, given: 5 }] }), 1000);
    kept.countRelease('c', 'f', 'raw');
    kept.countRelease('c', 'f', 'insight');
    expect(kept.get('c', 1001)!.counts).toEqual([{ research_field: 'f', kind: 'raw', received: 3, given: 5 }, { research_field: 'f', kind: 'insight', received: 1, given: 0 }]);
  });
});
