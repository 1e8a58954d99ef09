/**
 * The ledger's storage side: a single sequencer that moves queued events into
 * indexed, chained, Merkle-hashed entries in batches, a checkpointer that
 * signs the tree head, and the reads auditors use (entries, proofs). Hashing
 * lives in the pure modules; this file only appends and reads. See
 * docs/ledger.md for why the work is split this way.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { ServiceKey } from '../service-keys.js';
import { validationFailed } from '../errors.js';
import { toBase64 } from '../crypto/sha256.js';
import { chainHash, ZERO_HASH } from './chain.js';
import { formatCheckpointBody, signNote, verifierKey } from './checkpoint.js';
import { canonicalEntryText, ENTRY_VERSION, entryTime, leafHashOfText, type LedgerEntry } from './ledger-entry.js';
import {
  CompactRange,
  consistencyProofRanges,
  frontierNodeIds,
  inclusionProofRanges,
  perfectNodesOfRange,
  proofFromNodes,
  type NodeId,
} from './merkle.js';

/** Most entries one GET /ledger/entries page returns; a larger limit is capped to it. */
export const PAGE_MAX = 1000;

/** Default number of queued events one sequencing step integrates. */
export const DEFAULT_BATCH = 2000;

// Any constant distinct from the other advisory locks of the schema (bootstrap, tests):
// it makes one sequencer at a time integrate, across every process sharing the database.
const SEQUENCER_LOCK = 7_346_120;
const LOOP_PERIOD_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** One served entry: the stored entry object (or, if it no longer parses, its raw text) and its hashes in standard base64. */
export interface EntryView {
  index: number;
  entry: unknown;
  leafHash: string;
  chainHash: string;
}

/** The latest signed checkpoint. */
export interface CheckpointView {
  size: number;
  rootHash: Uint8Array;
  note: string;
}

/** The integrated tree's head: what appending needs, cached between batches. */
interface Head {
  size: number;
  frontier: Uint8Array[];
  lastChain: Uint8Array;
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

interface QueueRow {
  id: string;
  kind: string;
  at: Date | string;
  actor: string;
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

interface EntryRow {
  idx: string;
  entry: string;
  leaf_hash: Uint8Array;
  chain_hash: Uint8Array;
}

const nodeKey = (level: number, index: number): string => `${level}:${index}`;

function viewOf(row: EntryRow): EntryView {
  let entry: unknown;
  try {
    entry = JSON.parse(row.entry);
  } catch {
    // Only tampering gets here: serve the text as it is so the verifier can name the entry instead of the API failing.
    entry = row.entry;
  }
  return { index: Number(row.idx), entry, leafHash: toBase64(row.leaf_hash), chainHash: toBase64(row.chain_hash) };
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

  constructor(
    private readonly ds: DataSource,
    private readonly opts: { origin: string; key: ServiceKey },
  ) {}

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
      // A CTE so the rows come back ordered (RETURNING has no ORDER BY).
      const rows = (await tx.query(
        `WITH taken AS (
           DELETE FROM ledger_queue WHERE id IN (SELECT id FROM ledger_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, kind, at, actor, subjects, data)
         SELECT * FROM taken ORDER BY id`,
        [maxBatch],
      )) as QueueRow[];
      if (rows.length === 0) return null;
      const head = await this.#loadHead(tx);
      const range = new CompactRange(head.size, head.frontier);
      let chain = head.lastChain;
      const e = { idx: [] as number[], kind: [] as string[], text: [] as string[], leaf: [] as Uint8Array[], chain: [] as Uint8Array[], subjects: [] as string[] };
      const n = { level: [] as number[], idx: [] as number[], hash: [] as Uint8Array[] };
      rows.forEach((row, i) => {
        const entry: LedgerEntry = {
          v: ENTRY_VERSION,
          index: head.size + i,
          kind: row.kind,
          at: entryTime(row.at instanceof Date ? row.at : new Date(row.at)),
          actor: row.actor,
          subjects: row.subjects,
          data: row.data,
        };
        const text = canonicalEntryText(entry);
        const leaf = leafHashOfText(text);
        chain = chainHash(chain, leaf);
        e.idx.push(entry.index);
        e.kind.push(row.kind);
        e.text.push(text);
        e.leaf.push(leaf);
        e.chain.push(chain);
        e.subjects.push(JSON.stringify(row.subjects));
        for (const node of range.append(leaf)) {
          n.level.push(node.level);
          n.idx.push(node.index);
          n.hash.push(node.hash);
        }
      });
      // unnest keeps it to two statements of constant text however large the batch.
      await tx.query(
        `INSERT INTO ledger_entries (idx, kind, entry, leaf_hash, chain_hash, subjects)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bytea[], $6::jsonb[])`,
        [e.idx, e.kind, e.text, e.leaf, e.chain, e.subjects],
      );
      await tx.query('INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])', [n.level, n.idx, n.hash]);
      return { count: rows.length, head: { size: range.size, frontier: range.frontier, lastChain: chain } };
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
    const [last] = (await this.ds.query('SELECT max(tree_size)::text AS size FROM ledger_checkpoints')) as Array<{ size: string | null }>;
    if (last.size !== null && Number(last.size) >= head.size) return null;
    const { origin, key } = this.opts;
    const rootHash = new CompactRange(head.size, head.frontier).root();
    const note = signNote(formatCheckpointBody({ origin, size: head.size, rootHash }), origin, key.secretKey);
    await this.ds.query('INSERT INTO ledger_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3) ON CONFLICT (tree_size) DO NOTHING', [head.size, rootHash, note]);
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
        await this.flush().catch((err: unknown) => logger.warn({ err }, 'final ledger flush failed'));
      },
    };
  }

  /** The latest signed checkpoint; signs the first one if none exists yet. */
  async latestCheckpoint(): Promise<CheckpointView> {
    const read = async () =>
      (await this.ds.query('SELECT tree_size::text AS size, root_hash, note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1')) as Array<{ size: string; root_hash: Uint8Array; note: string }>;
    let rows = await read();
    if (rows.length === 0) {
      await this.checkpoint();
      rows = await read();
    }
    const [row] = rows;
    return { size: Number(row.size), rootHash: new Uint8Array(row.root_hash), note: row.note };
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
    const rows = (await this.ds.query('SELECT idx::text AS idx, entry, leaf_hash, chain_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx', [start, end])) as EntryRow[];
    return { treeSize, entries: rows.map(viewOf) };
  }

  /** Entries whose subjects include {key: id}, in log order (jsonb containment, GIN-indexed). */
  async entriesForSubject(key: string, id: string): Promise<EntryView[]> {
    const rows = (await this.ds.query('SELECT idx::text AS idx, entry, leaf_hash, chain_hash FROM ledger_entries WHERE subjects @> $1::jsonb ORDER BY idx', [JSON.stringify({ [key]: id })])) as EntryRow[];
    return rows.map(viewOf);
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

  async #checkIntegrated(size: number, name: string): Promise<void> {
    const integrated = await this.treeSize();
    if (size > integrated) throw validationFailed(`${name} ${size} is beyond the integrated tree size ${integrated}`, [{ pointer: `/${name}`, message: 'beyond the tree size' }]);
  }

  /** The head for the current database size: the cache when it matches, else reloaded (another process may have advanced). */
  async #loadHead(q: Queryable): Promise<Head> {
    const size = await sizeOf(q);
    const cached = this.#head;
    if (cached && cached.size === size) return cached;
    const ids = frontierNodeIds(size);
    const nodes = await fetchNodes(q, ids);
    let lastChain = ZERO_HASH;
    if (size > 0) {
      const [row] = (await q.query('SELECT chain_hash FROM ledger_entries WHERE idx = $1', [size - 1])) as Array<{ chain_hash: Uint8Array }>;
      lastChain = new Uint8Array(row.chain_hash);
    }
    const head = { size, frontier: ids.map(nodes), lastChain };
    this.#head = head;
    return head;
  }
}

async function sizeOf(q: Queryable): Promise<number> {
  const [row] = (await q.query('SELECT coalesce(max(idx) + 1, 0)::text AS size FROM ledger_entries')) as Array<{ size: string }>;
  return Number(row.size);
}

/** Fetches the given nodes in one query and returns a lookup that throws on a node that is not stored. */
async function fetchNodes(q: Queryable, ids: NodeId[]): Promise<(id: NodeId) => Uint8Array> {
  const found = new Map<string, Uint8Array>();
  if (ids.length > 0) {
    const rows = (await q.query(
      `SELECT n.level, n.idx::text AS idx, n.hash FROM ledger_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`,
      [ids.map((i) => i.level), ids.map((i) => i.index)],
    )) as Array<{ level: number; idx: string; hash: Uint8Array }>;
    for (const r of rows) found.set(nodeKey(r.level, Number(r.idx)), new Uint8Array(r.hash));
  }
  return (id) => {
    const h = found.get(nodeKey(id.level, id.index));
    if (!h) throw new Error(`ledger node (${id.level}, ${id.index}) is missing from storage`);
    return h;
  };
}
