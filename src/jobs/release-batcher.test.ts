import { ReleaseBatcher, type BatchStatements } from './release-batcher.js';

// Statements that resolve when the test says so, and remember what they were given.
function gatedStatements(opts: { failMany?: (items: number[]) => boolean; oneFails?: (item: number) => boolean; shortMany?: boolean } = {}) {
  const calls: Array<{ kind: 'one' | 'many'; items: number[]; release(): void }> = [];
  const statements: BatchStatements<number, string> = {
    one: (item) => new Promise((resolve, reject) => {
      calls.push({ kind: 'one', items: [item], release: () => (opts.oneFails?.(item) ? reject(new Error(`one ${item} failed`)) : resolve(`one:${item}`)) });
    }),
    many: (items) => new Promise((resolve, reject) => {
      calls.push({
        kind: 'many', items,
        release: () => (opts.failMany?.(items) ? reject(new Error('batch failed')) : resolve(items.slice(opts.shortMany ? 1 : 0).map((i) => `many:${i}`))),
      });
    }),
  };
  return { statements, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

async function releaseAll(calls: Array<{ release(): void }>, from = 0): Promise<void> {
  for (let i = from; i < calls.length; i++) {
    calls[i]!.release();
    await tick();
  }
}

describe('ReleaseBatcher', () => {
  it('sends a request alone while a statement slot is free, and batches what queued behind busy slots', async () => {
    const { statements, calls } = gatedStatements();
    const b = new ReleaseBatcher(statements, { maxInFlight: 2, maxBatch: 3 });
    const results = [1, 2, 3, 4, 5, 6, 7].map((i) => b.submit(i));
    await tick();
    // Two slots: 1 and 2 go alone; 3..7 wait.
    expect(calls.map((c) => [c.kind, c.items])).toEqual([['one', [1]], ['one', [2]]]);
    calls[0]!.release();
    await tick();
    // The freed slot takes at most maxBatch of the queue, in order.
    expect(calls.map((c) => [c.kind, c.items]).slice(2)).toEqual([['many', [3, 4, 5]]]);
    await releaseAll(calls, 1);
    expect(await Promise.all(results)).toEqual(['one:1', 'one:2', 'many:3', 'many:4', 'many:5', 'many:6', 'many:7']);
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    expect(b.stats).toEqual({ single: 2, batches: 2, batchedRequests: 5, fallbacks: 0 });
  });

  it('runs each request of a failed batch alone, each with its own outcome', async () => {
    const { statements, calls } = gatedStatements({ failMany: () => true, oneFails: (i) => i === 3 });
    const b = new ReleaseBatcher(statements, { maxInFlight: 1, maxBatch: 10 });
    const results = [1, 2, 3, 4].map((i) => b.submit(i).catch((e: Error) => e.message));
    await tick();
    await releaseAll(calls);
    expect(await Promise.all(results)).toEqual(['one:1', 'one:2', 'one 3 failed', 'one:4']);
    expect(calls.map((c) => [c.kind, c.items])).toEqual([['one', [1]], ['many', [2, 3, 4]], ['one', [2]], ['one', [3]], ['one', [4]]]);
    expect(b.stats).toMatchObject({ single: 1, batches: 0, fallbacks: 1 });
  });

  it('fails every request of a batch that answered the wrong number of results, and never runs them again', async () => {
    const { statements, calls } = gatedStatements({ shortMany: true });
    const b = new ReleaseBatcher(statements, { maxInFlight: 1, maxBatch: 10 });
    const results = [1, 2, 3].map((i) => b.submit(i).catch((e: Error) => e.message));
    await tick();
    await releaseAll(calls);
    expect(await Promise.all(results)).toEqual(['one:1', 'a batch of 2 requests answered 1 results', 'a batch of 2 requests answered 1 results']);
    expect(calls).toHaveLength(2);
  });

  it('refuses limits below one', () => {
    const { statements } = gatedStatements();
    expect(() => new ReleaseBatcher(statements, { maxInFlight: 0, maxBatch: 5 })).toThrow(/at least 1/);
    expect(() => new ReleaseBatcher(statements, { maxInFlight: 1, maxBatch: 0 })).toThrow(/at least 1/);
  });
});
