/**
 * Several authorizations in one statement, only when they would wait anyway:
 * a request is sent at once, alone, while fewer than `maxInFlight`
 * statements are running; past that it queues, and the requests that queued
 * while a statement ran go together in the next one (at most `maxBatch`).
 * Under light load nothing changes; under load one commit serves many jobs
 * (the database's per-statement and per-commit work was most of an
 * authorization's cost: bench/README.md, "Batched authorizations").
 *
 * A batch that fails as a whole (a statement error: nothing it did is kept)
 * runs each of its requests on its own, so a request's outcome, error
 * included, is what it would have been alone. Pure: the statements are
 * functions given by the caller.
 */

/** What the batcher runs: one request alone, or several in request order (one result each, in order). */
export interface BatchStatements<I, R> {
  one(item: I): Promise<R>;
  many(items: I[]): Promise<R[]>;
}

/** How many statements run at once and how many requests one may carry. */
export interface BatchLimits {
  maxInFlight: number;
  maxBatch: number;
}

/** Counts of what ran, for tests and the benchmark. */
export interface BatchStats {
  /** Statements for one request. */
  single: number;
  /** Statements for several requests, and how many requests they carried. */
  batches: number;
  batchedRequests: number;
  /** Batches that failed whole and were run request by request. */
  fallbacks: number;
}

interface Waiting<I, R> {
  item: I;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class ReleaseBatcher<I, R> {
  readonly #queue: Array<Waiting<I, R>> = [];
  #inFlight = 0;
  readonly stats: BatchStats = { single: 0, batches: 0, batchedRequests: 0, fallbacks: 0 };

  constructor(private readonly statements: BatchStatements<I, R>, private readonly limits: BatchLimits) {
    if (!(limits.maxInFlight >= 1 && limits.maxBatch >= 1)) throw new Error('maxInFlight and maxBatch must be at least 1');
  }

  /** Runs `item`, alone or with others, and resolves to its own result. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.limits.maxInFlight && this.#queue.length > 0) {
      const taken = this.#queue.splice(0, this.limits.maxBatch);
      this.#inFlight++;
      void this.#run(taken).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #run(taken: Array<Waiting<I, R>>): Promise<void> {
    if (taken.length === 1) {
      this.stats.single++;
      await this.#alone(taken[0]!);
      return;
    }
    let results: R[];
    try {
      results = await this.statements.many(taken.map((w) => w.item));
    } catch {
      // Nothing of the batch was kept: each request is decided on its own, its error its own.
      this.stats.fallbacks++;
      await Promise.all(taken.map((w) => this.#alone(w)));
      return;
    }
    if (results.length !== taken.length) {
      // The statement ran: running the requests again would count them twice. Fail closed.
      const e = new Error(`a batch of ${taken.length} requests answered ${results.length} results`);
      for (const w of taken) w.reject(e);
      return;
    }
    this.stats.batches++;
    this.stats.batchedRequests += taken.length;
    taken.forEach((w, i) => w.resolve(results[i]!));
  }

  async #alone(w: Waiting<I, R>): Promise<void> {
    try {
      w.resolve(await this.statements.one(w.item));
    } catch (e) {
      w.reject(e);
    }
  }
}
