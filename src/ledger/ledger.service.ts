/**
 * The ledger's storage side: a single sequencer that moves queued events into
 * indexed, chained, Merkle-hashed entries in batches, a checkpointer that
 * signs the tree head, and the reads auditors use (entries, proofs). Hashing
 * lives in the pure modules, SQL in ledger-store.ts and cosignature-store.ts;
 * this file holds the policy (one sequencer under its advisory lock, head
 * cache, checkpoint cadence, range checks). See docs/ledger.md for why the
 * work is split this way.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { ServiceKey } from '../service-keys.js';
import { validationFailed } from '../errors.js';
import { toBase64 } from '../crypto/sha256.js';
import { signerOf } from '../crypto/ed25519-node.js';
import { formatCheckpointBody, noteSignerOf, signNoteWith, verifierKey, type NoteSigner } from './checkpoint.js';
import { CompactRange, consistencyProofRanges, inclusionProofRanges, perfectNodesOfRange, proofFromNodes } from './merkle.js';
import { addSignatures } from './note.js';
import { readNewestCheckpoint, readServedCheckpoint } from './cosignature-store.js';
import { appendRows, fetchNodes, insertCheckpoint, latestCheckpointSize, readEntries, readEntriesBySubject, readEntriesOfParty, readHead, sizeOf, takeQueued, type EntryView, type Head, type Queryable } from './ledger-store.js';

export type { EntryView } from './ledger-store.js';

/** One entry of a party view: the entry, its hashes and its inclusion proof for the view's tree size. */
export interface ProvenEntryView extends EntryView {
  proof: string[];
}

/** GET /ledger/mine: the caller's entries below treeSize, each proven against `checkpoint` (the signed note of treeSize). */
export interface PartyView {
  treeSize: number;
  checkpoint: string;
  entries: ProvenEntryView[];
  /** Where the next page starts: after the last entry of a full page, else treeSize (everything below it was searched). */
  nextStart: number;
}

/** Most entries one GET /ledger/entries page returns; a larger limit is capped to it. */
export const PAGE_MAX = 1000;

/** Default number of queued events one sequencing step integrates. */
export const DEFAULT_BATCH = 2000;

// Any constant distinct from the other advisory locks of the schema (bootstrap, tests):
// it makes one sequencer at a time integrate, across every process sharing the database.
const SEQUENCER_LOCK = 7_346_120;
const LOOP_PERIOD_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** How long a checkpoint waits for all witness cosignatures before it is served with those it has. */
export const COSIGN_GRACE_MS = 1000;

/** The latest signed checkpoint. */
export interface CheckpointView {
  size: number;
  rootHash: Uint8Array;
  note: string;
}

function checkCount(value: number, name: string, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) throw validationFailed(`${name} must be an integer of at least ${min}`, [{ pointer: `/${name}`, message: `must be >= ${min}` }]);
}

const sleep = (ms: number, signal: { wake?: () => void }): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

/**
 * Sequencing, checkpointing and auditor reads of the ledger. Request
 * transactions only insert into ledger_queue (appendEvent), so they never
 * contend on the chain head; this service gives queued events their index in
 * batches under an advisory lock, which keeps the chain and tree linear even
 * with several API processes on one database.
 */
export class LedgerService {
  #head: Head | null = null;
  // The largest tree size seen integrated (it never shrinks): proofs below it skip the size read.
  #integratedAtLeast = 0;
  // Checkpoints are signed on the event loop every ~100 ms under load: the native signer with the key
  // expanded once takes 0.02–0.05 ms per note, the portable signer plus its per-note public-key derivation 0.5–0.8 ms.
  readonly #signer: NoteSigner;

  constructor(
    private readonly ds: DataSource,
    private readonly opts: { origin: string; key: ServiceKey; witnessCount?: number; graceMs?: number },
  ) {
    this.#signer = noteSignerOf(opts.origin, opts.key.secretKey, signerOf(opts.key.privateJwk));
  }

  /**
   * One sequencing step in one transaction: takes up to maxBatch queued
   * events in id order, appends them as entries (index, leaf hash, chain
   * hash), stores the perfect Merkle nodes they complete, and commits.
   * Returns how many were integrated (0 when the queue was empty).
   */
  async integratePending(maxBatch = DEFAULT_BATCH): Promise<number> {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    const done = await this.ds.transaction('READ COMMITTED', async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      const rows = await takeQueued(tx, maxBatch);
      if (rows.length === 0) return null;
      const head = await appendRows(tx, rows, await this.#loadHead(tx));
      return { count: rows.length, head };
    });
    if (done === null) return 0;
    // Only after the commit: a rolled-back batch must not leave its head in the cache.
    this.#head = done.head;
    return done.count;
  }

  /**
   * Signs and stores a checkpoint when the integrated tree is larger than the
   * latest checkpoint (or none exists yet, so even the empty tree has one).
   * Returns it, or null when there was nothing new. Concurrent checkpointers
   * are harmless: each signs a true tree head, duplicates are ignored.
   */
  async checkpoint(): Promise<{ size: number; note: string } | null> {
    const head = await this.#loadHead(this.ds);
    const last = await latestCheckpointSize(this.ds);
    if (last !== null && last >= head.size) return null;
    const rootHash = new CompactRange(head.size, head.frontier).root();
    const note = signNoteWith(formatCheckpointBody({ origin: this.opts.origin, size: head.size, rootHash }), this.#signer);
    await insertCheckpoint(this.ds, head.size, rootHash, note);
    return { size: head.size, note };
  }

  /** Integrates until the queue is empty, then checkpoints: for tests, benchmarks and shutdown. */
  async flush(): Promise<void> {
    while ((await this.integratePending()) > 0);
    await this.checkpoint();
  }

  /**
   * Runs the sequencer and checkpointer in the background: every ~100 ms, or
   * at once after a full batch. Errors (a database outage) are logged and
   * retried with backoff. stop() waits for the running step, then makes one
   * last flush attempt so a clean shutdown leaves nothing unsigned.
   */
  start(logger: Logger): { stop(): Promise<void> } {
    let stopped = false;
    const signal: { wake?: () => void } = {};
    const loop = async (): Promise<void> => {
      let failures = 0;
      while (!stopped) {
        let full = false;
        try {
          full = (await this.integratePending(DEFAULT_BATCH)) === DEFAULT_BATCH;
          await this.checkpoint();
          failures = 0;
        } catch (err) {
          failures++;
          logger.error({ err, failures }, 'ledger sequencing failed; will retry');
        }
        const pause = failures > 0 ? Math.min(MAX_BACKOFF_MS, LOOP_PERIOD_MS * 2 ** failures) : full ? 0 : LOOP_PERIOD_MS;
        if (!stopped && pause > 0) await sleep(pause, signal);
      }
    };
    const running = loop();
    return {
      stop: async () => {
        stopped = true;
        signal.wake?.();
        await running;
        // Queued events are durable: whatever this last flush cannot integrate (e.g. the embedded
        // database is stopping in parallel) is integrated by the next start.
        await this.flush().catch((err: unknown) =>
          logger.info({ reason: (err as Error).message }, 'final ledger flush not completed; queued events will be integrated at next start'),
        );
      },
    };
  }

  /**
   * The checkpoint the API serves, with every witness cosignature gathered
   * for it appended to the note: the newest one all configured witnesses
   * cosigned, or the newest outright once it is older than the grace period
   * (about a second), so a dead witness never holds the log back. Signs the
   * first checkpoint if none exists yet.
   */
  async latestCheckpoint(): Promise<CheckpointView> {
    const read = () => readServedCheckpoint(this.ds, this.opts.witnessCount ?? 0, this.opts.graceMs ?? COSIGN_GRACE_MS);
    let row = await read();
    if (row === null) {
      await this.checkpoint();
      row = await read();
    }
    if (row === null) throw new Error('no checkpoint could be signed');
    return { size: row.size, rootHash: row.rootHash, note: row.cosignatures.length > 0 ? addSignatures(row.note, row.cosignatures) : row.note };
  }

  /** The newest signed checkpoint, log signature only (what witnesses are asked to cosign); null before the first. */
  async newestCheckpoint(): Promise<{ size: number; note: string } | null> {
    return readNewestCheckpoint(this.ds);
  }

  /** The verifier key auditors pin: `<origin>+<hex key id>+<base64(0x01 || public key)>`. */
  verifierKey(): string {
    return verifierKey(this.opts.origin, this.opts.key.publicKey);
  }

  /** Number of integrated entries (signed or not yet). */
  async treeSize(): Promise<number> {
    return sizeOf(this.ds);
  }

  /** Entries from `start`, at most min(limit, PAGE_MAX) of them; an empty page past the end. */
  async entries(start: number, limit: number): Promise<{ treeSize: number; entries: EntryView[] }> {
    checkCount(start, 'start');
    checkCount(limit, 'limit', 1);
    const treeSize = await this.treeSize();
    const end = Math.min(start + Math.min(limit, PAGE_MAX), treeSize);
    if (start >= end) return { treeSize, entries: [] };
    return { treeSize, entries: await readEntries(this.ds, start, end) };
  }

  /** Entries whose subjects include {key: id}, in log order (jsonb containment, GIN-indexed). */
  async entriesForSubject(key: string, id: string): Promise<EntryView[]> {
    return readEntriesBySubject(this.ds, { [key]: id });
  }

  /**
   * The entries naming `participantId` (as actor or subject value) with index
   * >= start, below the latest checkpoint's size, at most min(limit,
   * PAGE_MAX), each with its inclusion proof for that size: one index range
   * scan and one node query, however large the ledger is.
   */
  async entriesOfParty(participantId: string, start: number, limit: number): Promise<PartyView> {
    checkCount(start, 'start');
    checkCount(limit, 'limit', 1);
    const cp = await this.latestCheckpoint();
    const take = Math.min(limit, PAGE_MAX);
    const rows = start < cp.size ? await readEntriesOfParty(this.ds, participantId, start, cp.size, take) : [];
    const rangesOf = rows.map((e) => inclusionProofRanges(e.index, cp.size));
    const nodes = await fetchNodes(this.ds, rangesOf.flatMap((ranges) => ranges.flatMap(([s, e]) => perfectNodesOfRange(s, e))));
    const entries = rows.map((e, i) => ({ ...e, proof: proofFromNodes(rangesOf[i], nodes).map(toBase64) }));
    const nextStart = rows.length === take ? rows[rows.length - 1].index + 1 : Math.max(start, cp.size);
    return { treeSize: cp.size, checkpoint: cp.note, entries, nextStart };
  }

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `treeSize` leaves (default: the latest checkpoint's size). */
  async inclusionProof(index: number, treeSize?: number): Promise<{ index: number; treeSize: number; leafHash: string; proof: string[] }> {
    checkCount(index, 'index');
    const size = treeSize ?? (await this.latestCheckpoint()).size;
    checkCount(size, 'treeSize');
    await this.#checkIntegrated(size, 'treeSize');
    if (index >= size) throw validationFailed(`index ${index} is not below treeSize ${size}`, [{ pointer: '/index', message: 'must be below treeSize' }]);
    const ranges = inclusionProofRanges(index, size);
    const leafId = { level: 0, index };
    const nodes = await fetchNodes(this.ds, [leafId, ...ranges.flatMap(([s, e]) => perfectNodesOfRange(s, e))]);
    const proof = proofFromNodes(ranges, nodes);
    return { index, treeSize: size, leafHash: toBase64(nodes(leafId)), proof: proof.map(toBase64) };
  }

  /** RFC 9162 consistency proof between tree sizes `from` and `to` (default: the latest checkpoint's size); 0 < from <= to. */
  async consistencyProof(from: number, to?: number): Promise<{ from: number; to: number; proof: string[] }> {
    checkCount(from, 'from', 1);
    const size = to ?? (await this.latestCheckpoint()).size;
    checkCount(size, 'to');
    if (from > size) throw validationFailed(`from ${from} is larger than to ${size}`, [{ pointer: '/from', message: 'must not exceed to' }]);
    await this.#checkIntegrated(size, 'to');
    const ranges = consistencyProofRanges(from, size);
    const nodes = await fetchNodes(this.ds, ranges.flatMap(([s, e]) => perfectNodesOfRange(s, e)));
    return { from, to: size, proof: proofFromNodes(ranges, nodes).map(toBase64) };
  }

  // A tree only grows: a size at or below one already seen integrated needs no read (a proof is then one query).
  async #checkIntegrated(size: number, name: string): Promise<void> {
    if (size <= this.#integratedAtLeast) return;
    const integrated = await this.treeSize();
    this.#integratedAtLeast = Math.max(this.#integratedAtLeast, integrated);
    if (size > integrated) throw validationFailed(`${name} ${size} is beyond the integrated tree size ${integrated}`, [{ pointer: `/${name}`, message: 'beyond the tree size' }]);
  }

  /** The head for the current database size: the cache when it matches, else reloaded (another process may have advanced). */
  async #loadHead(q: Queryable): Promise<Head> {
    const size = await sizeOf(q);
    const cached = this.#head;
    if (cached && cached.size === size) return cached;
    const head = await readHead(q, size);
    this.#head = head;
    return head;
  }
}
