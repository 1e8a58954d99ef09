/**
 * Per-participant token bucket for denial ledger entries: a participant that
 * hammers a closed door still gets its 403 every time, but cannot flood the
 * ledger. Denials over the budget are counted and the next recorded denial
 * carries that count (`suppressedBefore`), so the ledger still says how many.
 */

/** Bucket parameters. */
export interface LimiterOptions {
  capacity: number;
  refillPerSecond: number;
}

/** In-process token buckets keyed by participant id. */
export class DenialLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; suppressed: number }>();

  constructor(private readonly opts: LimiterOptions = { capacity: 200, refillPerSecond: 20 }, private readonly now: () => number = Date.now) {}

  /** May a denial of this participant be recorded now? When yes, also returns how many were suppressed before it. */
  take(participantId: string): { record: boolean; suppressedBefore: number } {
    const t = this.now();
    const b = this.buckets.get(participantId) ?? { tokens: this.opts.capacity, at: t, suppressed: 0 };
    b.tokens = Math.min(this.opts.capacity, b.tokens + ((t - b.at) / 1000) * this.opts.refillPerSecond);
    b.at = t;
    this.buckets.set(participantId, b);
    if (this.buckets.size > 100_000) this.evictFull();
    if (b.tokens < 1) {
      b.suppressed += 1;
      return { record: false, suppressedBefore: 0 };
    }
    b.tokens -= 1;
    const suppressedBefore = b.suppressed;
    b.suppressed = 0;
    return { record: true, suppressedBefore };
  }

  // Full buckets with nothing suppressed carry no information: drop them to bound memory.
  private evictFull(): void {
    for (const [k, b] of this.buckets) if (b.tokens >= this.opts.capacity - 1 && b.suppressed === 0) this.buckets.delete(k);
  }
}
