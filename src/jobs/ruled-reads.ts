/**
 * The last READ_RULED_FACTS of each contract, kept by the process so that a
 * release under reciprocity rules is, most of the time, the release statement
 * alone. Deciding on a kept read is safe because everything that can make a
 * rule LESS permissive is re-checked by that statement at commit: more
 * releases received (the give-to-get bound, against the exact counter), a
 * withdrawal or a new withheld dataset (the version of the received row), a
 * rule added (the rule set). What a kept read cannot see coming is an offer
 * of the requester's own ending, so a read is kept no longer than the first
 * such end, and never longer than KEEP_MS. Everything else that changes with
 * time or later facts only makes rules more permissive, so a kept read errs
 * on the side of refusing, and a refusal is always decided again on a fresh
 * read (the reference path): a kept read never refuses anyone by itself.
 */
import type { RuledFacts } from './release.store.js';

/** The longest a read is decided on (ms). */
export const KEEP_MS = 5_000;

/** Most contracts whose read one process keeps (then it starts over). */
const KEEP_MAX = 10_000;

/** Until when (this process's clock, ms) a read taken at `readAt` may be decided on. */
export function keepUntil(read: Pick<RuledFacts, 'now' | 'own'>, readAt: number): number {
  const dbNow = new Date(read.now).getTime();
  let until = readAt + KEEP_MS;
  for (const d of read.own) {
    // Measured on the database's clock, applied on ours: an offer ending in 300 ms keeps the read 300 ms.
    if (d.offer_until !== null) until = Math.min(until, readAt + (new Date(d.offer_until).getTime() - dbNow));
  }
  return until;
}

/** The kept reads, by contract id. */
export class RuledReads {
  private readonly kept = new Map<string, { read: RuledFacts; until: number }>();

  /** The read of this contract if it may still be decided on at `now`. */
  get(contractId: string, now = Date.now()): RuledFacts | null {
    const k = this.kept.get(contractId);
    if (!k) return null;
    if (now >= k.until) {
      this.kept.delete(contractId);
      return null;
    }
    return k.read;
  }

  /** Keep a fresh read taken at `readAt`. */
  keep(contractId: string, read: RuledFacts, readAt = Date.now()): void {
    if (this.kept.size >= KEEP_MAX) this.kept.clear();
    this.kept.set(contractId, { read, until: keepUntil(read, readAt) });
  }

  /** After a release decided on the kept read committed: what the requester received there is one more. */
  countRelease(contractId: string, field: string, kind: 'raw' | 'insight'): void {
    const k = this.kept.get(contractId);
    if (!k) return;
    const row = k.read.counts.find((c) => c.research_field === field && c.kind === kind);
    if (row) row.received += 1;
    else k.read.counts.push({ research_field: field, kind, received: 1, given: 0 });
  }

  /** Drop the read: a check failed, or the decision was refused (decided again on a fresh read). */
  forget(contractId: string): void {
    this.kept.delete(contractId);
  }
}
