/**
 * The SQL of the ledger tables, used only by LedgerService: taking queued
 * events, writing entries with their Merkle nodes in pipelined chunks, and
 * the reads behind the head, pages and proofs. Hashing comes from the pure
 * modules; nothing here decides policy (locks, caching, validation).
 */
import type { DataSource } from 'typeorm';
import { toBase64, toHex } from '../crypto/sha256.js';
import { preparedQuery } from '../db/prepared.js';
import { chainHash, ZERO_HASH } from './chain.js';
import { canonicalEntryText, ENTRY_VERSION, entryTime, leafHashOfText, type LedgerEntry } from './ledger-entry.js';
import { CompactRange, frontierNodeIds, type NodeId } from './merkle.js';

/** A connection or transaction manager: anything with TypeORM's raw query. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The integrated tree's head: what appending the next entry needs. */
export interface Head {
  size: number;
  frontier: Uint8Array[];
  lastChain: Uint8Array;
}

/** One served entry: the stored entry object (or, if it no longer parses, its raw text) and its hashes in standard base64. */
export interface EntryView {
  index: number;
  entry: unknown;
  leafHash: string;
  chainHash: string;
}

/** A queued event as the DELETE ... RETURNING hands it over. */
export interface QueueRow {
  id: string;
  kind: string;
  at: Date | string;
  actor: string;
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

// `pos`, not `idx`: an output column named idx would make ORDER BY idx sort the text.
interface EntryRow {
  pos: string;
  entry: string;
  leaf_hash: Uint8Array;
  chain_hash: Uint8Array;
}

// Rows per INSERT: small enough to overlap hashing with the database and to keep each synchronous
// encoding step short (requests wait behind it: 500 rows held the event loop ~5 ms under load, and
// 100 lowered the jobs' p99 by ~2.5 ms at 32 clients), large enough to amortise a statement.
const WRITE_CHUNK = 100;

// One statement per chunk (entries and their nodes together; one JSON array of entry rows and unnest
// for the rest, so the text is constant however many rows it carries): fewer round trips inside the
// sequencer's lock. The entries travel as JSON ([index, kind, text, leaf hex, chain hex, subjects]) and
// not as text[] and jsonb[]: pg would escape every quote of every entry's text in JavaScript.
// The party index (GET /ledger/mine) is written by the same statement: each entry's actor and
// subject values that are participant ids, so a party's entries commit with the entries themselves.
const INSERT_CHUNK = `WITH entries AS (
    INSERT INTO ledger_entries (idx, kind, entry, leaf_hash, chain_hash, subjects)
    SELECT (r->>0)::bigint, r->>1, r->>2, decode(r->>3, 'hex'), decode(r->>4, 'hex'), r->5 FROM jsonb_array_elements($1::jsonb) r),
  nodes AS (INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]))
  INSERT INTO ledger_party_index (participant_id, idx)
  SELECT w.pid, w.idx FROM unnest($5::uuid[], $6::bigint[]) AS w(pid, idx)
  WHERE EXISTS (SELECT 1 FROM participants p WHERE p.id = w.pid)`;

// Only values shaped like a participant id can name one; others ('system', free text) never reach the uuid cast.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The distinct actor and subject values of an entry that could be participant ids (the SQL keeps those that are). */
export function partyCandidates(actor: string, subjects: Record<string, string>): string[] {
  const out = new Set<string>();
  for (const v of [actor, ...Object.values(subjects)]) if (typeof v === 'string' && UUID.test(v)) out.add(v.toLowerCase());
  return [...out];
}

const ENTRY_COLUMNS = 'SELECT idx::text AS pos, entry, leaf_hash, chain_hash FROM ledger_entries';

const nodeKey = (level: number, index: number): string => `${level}:${index}`;

/** Removes up to `max` queued events, oldest first, and returns them in id order (inside the caller's transaction). */
export async function takeQueued(tx: Queryable, max: number): Promise<QueueRow[]> {
  // A CTE so the rows come back ordered (RETURNING has no ORDER BY).
  return (await tx.query(
    `WITH taken AS (
       DELETE FROM ledger_queue WHERE id IN (SELECT id FROM ledger_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, at, actor, subjects, data)
     SELECT * FROM taken ORDER BY id`,
    [max],
  )) as QueueRow[];
}

/**
 * Turns queued rows into entries appended to `range` after `prevChain`: the
 * parameters of INSERT_CHUNK (the entries and the perfect nodes they
 * complete) and the chain hash of the last entry. Indices continue from range.size.
 */
function encodeChunk(rows: QueueRow[], range: CompactRange, prevChain: Uint8Array): { params: unknown[]; chain: Uint8Array } {
  const entries: Array<[number, string, string, string, string, Record<string, string>]> = [];
  const n = { level: [] as number[], idx: [] as number[], hash: [] as Uint8Array[] };
  const p = { pid: [] as string[], idx: [] as number[] };
  let chain = prevChain;
  for (const row of rows) {
    const entry: LedgerEntry = {
      v: ENTRY_VERSION,
      index: range.size,
      kind: row.kind,
      at: entryTime(row.at instanceof Date ? row.at : new Date(row.at)),
      actor: row.actor,
      subjects: row.subjects,
      data: row.data,
    };
    const text = canonicalEntryText(entry);
    const leaf = leafHashOfText(text);
    chain = chainHash(chain, leaf);
    entries.push([entry.index, row.kind, text, toHex(leaf), toHex(chain), row.subjects]);
    for (const pid of partyCandidates(row.actor, row.subjects)) {
      p.pid.push(pid);
      p.idx.push(entry.index);
    }
    for (const node of range.append(leaf)) {
      n.level.push(node.level);
      n.idx.push(node.index);
      n.hash.push(node.hash);
    }
  }
  return { params: [JSON.stringify(entries), n.level, n.idx, n.hash, p.pid, p.idx], chain };
}

/**
 * Appends the rows after `head` inside the caller's transaction and returns
 * the new head. Each chunk's INSERT is chained rather than awaited, so
 * PostgreSQL writes one chunk while the next is hashed; any failure (a write,
 * or an event that cannot be encoded) rejects after every write has settled,
 * so the caller's rollback never races a queued statement.
 */
export async function appendRows(tx: Queryable, rows: QueueRow[], head: Head): Promise<Head> {
  const range = new CompactRange(head.size, head.frontier);
  let chain = head.lastChain;
  let writes: Promise<unknown> = Promise.resolve();
  let aborted = false;
  try {
    for (let off = 0; off < rows.length; off += WRITE_CHUNK) {
      const chunk = encodeChunk(rows.slice(off, off + WRITE_CHUNK), range, chain);
      chain = chunk.chain;
      writes = writes.then(() => {
        // A statement sent after the rollback would run outside the transaction.
        if (aborted) throw new Error('sequencing step aborted');
        return tx.query(INSERT_CHUNK, chunk.params);
      });
      // Attached at once so an early failure is never an unhandled rejection.
      writes.catch(() => undefined);
      // Yield so the driver sends the chunk now rather than after all the hashing.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    aborted = true;
    await writes.catch(() => undefined);
    throw err;
  }
  await writes;
  return { size: range.size, frontier: range.frontier, lastChain: chain };
}

/** Number of integrated entries: one past the highest index (an index-only read of the primary key). */
export async function sizeOf(q: Queryable): Promise<number> {
  const [row] = (await q.query('SELECT coalesce(max(idx) + 1, 0)::text AS size FROM ledger_entries')) as Array<{ size: string }>;
  return Number(row.size);
}

/** The head of the tree of `size` leaves, read from its frontier nodes and last chain hash. */
export async function readHead(q: Queryable, size: number): Promise<Head> {
  const ids = frontierNodeIds(size);
  const nodes = await fetchNodes(q, ids);
  let lastChain = ZERO_HASH;
  if (size > 0) {
    const [row] = (await q.query('SELECT chain_hash FROM ledger_entries WHERE idx = $1', [size - 1])) as Array<{ chain_hash: Uint8Array }>;
    lastChain = new Uint8Array(row.chain_hash);
  }
  return { size, frontier: ids.map(nodes), lastChain };
}

// The stored nodes among the wanted (level, index) pairs.
const FETCH_NODES = `SELECT n.level, n.idx::text AS idx, n.hash FROM ledger_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`;

type NodeRow = { level: number; idx: string; hash: Uint8Array };

/** Fetches the given nodes in one query and returns a lookup that throws on a node that is not stored. */
export async function fetchNodes(q: Queryable, ids: NodeId[]): Promise<(id: NodeId) => Uint8Array> {
  const found = new Map<string, Uint8Array>();
  // A page of proofs repeats most nodes: asking each once keeps the join to index lookups.
  const unique = [...new Map(ids.map((i) => [nodeKey(i.level, i.index), i])).values()];
  if (unique.length > 0) {
    const values = [unique.map((i) => i.level), unique.map((i) => i.index)];
    // On the data source (every proof a GET serves) as a named prepared statement: planned once per connection.
    const rows = 'createQueryRunner' in q
      ? await preparedQuery<NodeRow>(q as DataSource, 'tds_ledger_nodes', FETCH_NODES, values)
      : ((await q.query(FETCH_NODES, values)) as NodeRow[]);
    for (const r of rows) found.set(nodeKey(r.level, Number(r.idx)), new Uint8Array(r.hash));
  }
  return (id) => {
    const h = found.get(nodeKey(id.level, id.index));
    if (!h) throw new Error(`ledger node (${id.level}, ${id.index}) is missing from storage`);
    return h;
  };
}

function viewOf(row: EntryRow): EntryView {
  let entry: unknown;
  try {
    entry = JSON.parse(row.entry);
  } catch {
    // Only tampering gets here: serve the text as it is so the verifier can name the entry instead of the API failing.
    entry = row.entry;
  }
  return { index: Number(row.pos), entry, leafHash: toBase64(row.leaf_hash), chainHash: toBase64(row.chain_hash) };
}

/** Entries with start <= index < end, in index order. */
export async function readEntries(q: Queryable, start: number, end: number): Promise<EntryView[]> {
  return ((await q.query(`${ENTRY_COLUMNS} WHERE idx >= $1 AND idx < $2 ORDER BY idx`, [start, end])) as EntryRow[]).map(viewOf);
}

/** Entries whose subjects contain `subjects` (jsonb @>, GIN-indexed), in index order. */
export async function readEntriesBySubject(q: Queryable, subjects: Record<string, string>): Promise<EntryView[]> {
  return ((await q.query(`${ENTRY_COLUMNS} WHERE subjects @> $1::jsonb ORDER BY idx`, [JSON.stringify(subjects)])) as EntryRow[]).map(viewOf);
}

/**
 * Entries naming `participantId` (actor or subject value) with start <= index
 * < end, in index order, at most `limit`: a range scan of the party index.
 */
export async function readEntriesOfParty(q: Queryable, participantId: string, start: number, end: number, limit: number): Promise<EntryView[]> {
  return ((await q.query(
    `SELECT e.idx::text AS pos, e.entry, e.leaf_hash, e.chain_hash
     FROM ledger_party_index p JOIN ledger_entries e ON e.idx = p.idx
     WHERE p.participant_id = $1 AND p.idx >= $2 AND p.idx < $3 ORDER BY p.idx LIMIT $4`,
    [participantId, start, end, limit],
  )) as EntryRow[]).map(viewOf);
}

/** The `job.authorized` entry of a job (its exact stored text) or, if it is still queued, its subjects; null when neither exists. */
export async function readAuthorization(q: Queryable, jobId: string): Promise<{ index: number; text: string; subjects: Record<string, string> } | { queued: Record<string, string> } | null> {
  const subject = JSON.stringify({ job: jobId });
  // One statement, so one snapshot: two reads could miss an event the sequencer moves from the queue in between.
  const rows = (await q.query(
    `SELECT pos, entry, subjects FROM (
       (SELECT idx::text AS pos, entry, subjects FROM ledger_entries WHERE subjects @> $1::jsonb AND kind = 'job.authorized' ORDER BY idx LIMIT 1)
       UNION ALL
       (SELECT NULL, NULL, subjects FROM ledger_queue WHERE subjects @> $1::jsonb AND kind = 'job.authorized' LIMIT 1)
     ) found ORDER BY pos IS NULL LIMIT 1`,
    [subject],
  )) as Array<{ pos: string | null; entry: string | null; subjects: Record<string, string> }>;
  const row = rows[0];
  if (!row) return null;
  return row.pos !== null && row.entry !== null ? { index: Number(row.pos), text: row.entry, subjects: row.subjects } : { queued: row.subjects };
}

/** Size of the latest stored checkpoint, or null when none is stored yet. */
export async function latestCheckpointSize(q: Queryable): Promise<number | null> {
  const [last] = (await q.query('SELECT max(tree_size)::text AS size FROM ledger_checkpoints')) as Array<{ size: string | null }>;
  return last?.size == null ? null : Number(last.size);
}

/** Store a signed checkpoint; a concurrent checkpointer's copy of the same size wins silently (both are true heads). */
export async function insertCheckpoint(q: Queryable, size: number, rootHash: Uint8Array, note: string): Promise<void> {
  await q.query('INSERT INTO ledger_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3) ON CONFLICT (tree_size) DO NOTHING', [size, rootHash, note]);
}
