import { mergeLoads, type LoadResult } from './load.js';
import { median } from './stats.js';
import { kneePhase } from './summary.js';
import type { JobPhase } from './jobs-phase.js';

const round = (connections: number, okPerSecond: number, latencies: number[]): { result: LoadResult; latencies: number[] } => ({
  result: { connections, durationS: 5, statusCounts: { '201': latencies.length, '403': 1 }, ok: latencies.length, notOk: 1, errors: 0, okPerSecond, latencyMs: { count: 0, mean: null, p50: null, p95: null, p99: null, max: null } },
  latencies,
});

describe('the job-load curve', () => {
  it('median takes the middle value and refuses an empty list', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(() => median([])).toThrow(RangeError);
  });

  it('merges rounds: counts summed, median rate, percentiles over every response', () => {
    const m = mergeLoads([round(8, 700, [1, 2, 3]), round(8, 1200, [4, 5]), round(8, 900, [100])]);
    expect(m).toMatchObject({ connections: 8, durationS: 15, ok: 6, notOk: 3, statusCounts: { '201': 6, '403': 3 }, okPerSecond: 900, roundRates: [700, 1200, 900] });
    expect(m.latencyMs).toMatchObject({ count: 6, p50: 3, max: 100 });
    expect(() => mergeLoads([])).toThrow(RangeError);
  });

  it('reads the knee at the fewest connections reaching 90 % of the peak', () => {
    const phase = (connections: number, okPerSecond: number) => ({ connections, okPerSecond }) as JobPhase;
    expect(kneePhase([phase(4, 800), phase(8, 950), phase(16, 1000), phase(32, 990)])?.connections).toBe(8);
    // One lucky window at c=64 moves the knee there: why each point is a median of interleaved rounds.
    expect(kneePhase([phase(4, 800), phase(8, 850), phase(16, 800), phase(32, 830), phase(64, 1030)])?.connections).toBe(64);
  });
});
