/**
 * The token ids of read-only requests (GET, HEAD) this process has seen, held
 * in memory until the tokens expire. A GET changes nothing, so recording its
 * token durably (a PostgreSQL insert and commit on every read) buys only one
 * thing: refusing a replay that reaches another process, or this one after a
 * restart, within the token's lifetime (at most 300 s). The service accepts
 * that for reads (README, "Security": a replayed GET returns what the token's
 * holder could already read) and keeps the durable record for every write.
 * Bounded: when full of unexpired ids it says so and the caller records the
 * id durably instead, so an overflow never lets a replay through here.
 */

/** What remembering a token id found: first use, a replay, or no room (record it durably instead). */
export type Remembered = 'fresh' | 'replayed' | 'full';

/** A per-process set of (issuer, jti) with expiry. */
export class RecentTokens {
  readonly #seen = new Map<string, number>();

  constructor(private readonly max = 200_000, private readonly now: () => number = Date.now) {}

  /** Record (issuer, jti) until expiresAtMs; answers whether it was new. Synchronous: check and record are one step. */
  remember(issuer: string, jti: string, expiresAtMs: number): Remembered {
    const key = `${issuer}\n${jti}`;
    const t = this.now();
    const until = this.#seen.get(key);
    if (until !== undefined && until >= t) return 'replayed';
    if (this.#seen.size >= this.max) {
      this.#sweep(t);
      if (this.#seen.size >= this.max) return 'full';
    }
    this.#seen.delete(key);
    this.#seen.set(key, expiresAtMs);
    this.#trim(t);
    return 'fresh';
  }

  /** Token ids held now. */
  get size(): number {
    return this.#seen.size;
  }

  // Insertion order is nearly expiry order (lifetimes are at most 300 s): drop a few expired ones from the front.
  #trim(t: number): void {
    let n = 0;
    for (const [key, until] of this.#seen) {
      if (until >= t || n++ >= 8) return;
      this.#seen.delete(key);
    }
  }

  #sweep(t: number): void {
    for (const [key, until] of this.#seen) if (until < t) this.#seen.delete(key);
  }
}
