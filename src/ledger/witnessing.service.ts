/**
 * Gathering witness cosignatures (C2SP tlog-witness, client side): each new
 * checkpoint is submitted to every configured witness with a consistency
 * proof from the size that witness last cosigned, the returned cosignature is
 * verified against the witness's key and stored with the checkpoint. Each
 * witness has its own loop with a timeout and backoff, in the background, so
 * a slow or dead witness delays neither the ledger, nor the API, nor the
 * other witnesses. Outcomes are counted for /metrics.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { cosignaturesBy, parseCosignerKey, type CosignerKey } from './cosignature.js';
import { insertCosignature, readLastCosignedSize } from './cosignature-store.js';
import { splitNote } from './note.js';
import type { LedgerService } from './ledger.service.js';

/** A witness as configured: submission prefix and cosigner verifier key. */
export interface WitnessTarget {
  url: string;
  vkey: string;
}

/** How one submission ended, as counted in /metrics. */
export type SubmissionOutcome = 'cosigned' | 'conflict' | 'refused' | 'bad_response' | 'unreachable';

const POLL_MS = 50;
const DEFAULT_TIMEOUT_MS = 2000;
// 409 answers in a row before waiting for the next round (another process may be racing us).
const MAX_CONFLICT_RETRIES = 3;

const MAX_BACKOFF_MS = 5000;

interface WitnessLoop {
  target: WitnessTarget;
  key: CosignerKey;
  id: string;
  /** The witness's latest cosigned size as far as we know (undefined until read from our records). */
  known?: number;
  /** The largest size whose cosignature we hold. */
  cosigned: number;
}

/** Submits checkpoints to the configured witnesses and stores their cosignatures. */
export class WitnessingService {
  readonly #loops: WitnessLoop[];
  readonly #counts = new Map<string, number>();

  constructor(
    private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    witnesses: readonly WitnessTarget[],
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    this.#loops = witnesses.map((target) => {
      const key = parseCosignerKey(target.vkey);
      return { target, key, id: target.vkey.split('+').slice(0, 2).join('+'), cosigned: 0 };
    });
  }

  /** Number of configured witnesses. */
  get count(): number {
    return this.#loops.length;
  }

  /** Submission outcomes so far, by witness name and outcome (for the tds_witness_submissions_total counter). */
  counts(): Array<{ witness: string; outcome: SubmissionOutcome; value: number }> {
    return [...this.#counts].map(([k, value]) => {
      const [witness, outcome] = k.split('\u0000') as [string, SubmissionOutcome];
      return { witness, outcome, value };
    });
  }

  #count(w: WitnessLoop, outcome: SubmissionOutcome): void {
    const k = `${w.key.name}\u0000${outcome}`;
    this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
  }

  /**
   * One submission round for one witness: brings it to the newest checkpoint
   * if it is not there yet. Returns the outcome, or null when there was
   * nothing to do. Never throws for the witness's faults, only for ours (the
   * database).
   */
  async submitNewest(w: WitnessLoop, logger?: Logger): Promise<SubmissionOutcome | null> {
    const newest = await this.ledger.newestCheckpoint();
    if (newest === null) return null;
    if (w.known === undefined) w.known = w.cosigned = await readLastCosignedSize(this.ds, w.id);
    if (w.cosigned >= newest.size && w.known >= newest.size) return null;
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      const old = w.known;
      // The witness is ahead of our newest checkpoint (another process submitted a newer one): nothing to prove from here.
      if (old > newest.size) return null;
      const proof = old === 0 || old === newest.size ? [] : (await this.ledger.consistencyProof(old, newest.size)).proof;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${w.target.url}/add-checkpoint`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
          body: `old ${old}\n${proof.map((p) => `${p}\n`).join('')}\n${newest.note}`,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
        text = await res.text();
      } catch (err) {
        this.#count(w, 'unreachable');
        logger?.warn({ witness: w.key.name, url: w.target.url, err: (err as Error).message }, 'witness unreachable');
        return 'unreachable';
      }
      if (res.status === 409 && (res.headers.get('content-type') ?? '').startsWith('text/x.tlog.size') && /^(0|[1-9][0-9]*)\n$/.test(text)) {
        this.#count(w, 'conflict');
        w.known = Number(text.trim());
        continue;
      }
      if (res.status !== 200) {
        this.#count(w, 'refused');
        logger?.warn({ witness: w.key.name, status: res.status, body: text.slice(0, 200), size: newest.size, old }, 'witness refused the checkpoint');
        return 'refused';
      }
      try {
        const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : [];
        const [cosig] = cosignaturesBy(splitNote(newest.note).body, lines, w.key);
        if (!cosig) throw new Error('no cosignature from the configured key');
        await insertCosignature(this.ds, newest.size, w.id, cosig.line.trimEnd(), cosig.timestamp);
      } catch (err) {
        if ((err as { driverError?: unknown }).driverError !== undefined) throw err;
        this.#count(w, 'bad_response');
        logger?.warn({ witness: w.key.name, err: (err as Error).message }, 'witness answered without a valid cosignature');
        return 'bad_response';
      }
      w.known = w.cosigned = newest.size;
      this.#count(w, 'cosigned');
      return 'cosigned';
    }
    return 'conflict';
  }

  /** Runs one loop per witness until stop(): poll the newest checkpoint, submit, back off on failures. */
  start(logger: Logger): { stop(): Promise<void> } {
    let stopped = false;
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((r) => (wake = r));
    // Sleeps end early at stop(), so stopping never waits out a backoff.
    const sleep = (ms: number) => Promise.race([woken, new Promise<void>((r) => setTimeout(r, ms).unref())]);
    const run = async (w: WitnessLoop): Promise<void> => {
      let failures = 0;
      while (!stopped) {
        let outcome: SubmissionOutcome | null;
        try {
          outcome = await this.submitNewest(w, logger);
        } catch (err) {
          logger.error({ err, witness: w.key.name }, 'cosigning round failed; will retry');
          outcome = 'unreachable';
        }
        failures = outcome === null || outcome === 'cosigned' ? 0 : failures + 1;
        await sleep(failures === 0 ? POLL_MS : Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures));
      }
    };
    const loops = this.#loops.map(run);
    return {
      stop: async () => {
        stopped = true;
        wake();
        await Promise.all(loops);
      },
    };
  }

  /** The loops, for tests driving submissions one at a time. */
  get witnesses(): readonly WitnessLoop[] {
    return this.#loops;
  }
}
