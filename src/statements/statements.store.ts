/**
 * The SQL of statements: the issued rows, and the read-only ledger reads a
 * statement is built from. Reading ledger_entries here (rather than through
 * LedgerService) is deliberate: these are range scans of immutable rows below
 * a signed tree size, specific to statements, and they change nothing.
 */
import type { Queryable } from '../db/transaction.js';
import type { PriceV1 } from '../generated/contracts.js';
import type { EntryObject, StatementRole } from './statement-document.js';


/** Kinds a statement reads: the releases and the contract terms (price) and exhaustion. */
export const STATEMENT_KINDS = ['job.authorized', 'contract.activated', 'contract.exhausted'];

function parseRows(rows: Array<{ entry: string }>): EntryObject[] {
  return rows.map((r) => JSON.parse(r.entry) as EntryObject);
}

/** The party's entries of `kinds` with index < treeSize, in index order (a range scan of the party index). */
export async function readPartyEntries(q: Queryable, party: string, treeSize: number, kinds = STATEMENT_KINDS): Promise<EntryObject[]> {
  return parseRows(await q.query(
    `SELECT e.entry FROM ledger_party_index p JOIN ledger_entries e ON e.idx = p.idx
      WHERE p.participant_id = $1 AND p.idx < $2 AND e.kind = ANY($3) ORDER BY p.idx`,
    [party, treeSize, kinds],
  ));
}

/** Every entry of `kinds` with index < treeSize, in index order (the settlement view reads all parties). */
export async function readAllEntries(q: Queryable, treeSize: number, kinds = STATEMENT_KINDS): Promise<EntryObject[]> {
  return parseRows(await q.query(`SELECT entry FROM ledger_entries WHERE idx < $1 AND kind = ANY($2) ORDER BY idx`, [treeSize, kinds]));
}

/** Prices from the signed documents of contracts whose contract.activated entry predates prices in the ledger. */
export async function readDocumentPrices(q: Queryable, contractIds: string[]): Promise<Map<string, PriceV1 | null>> {
  if (contractIds.length === 0) return new Map();
  const rows = (await q.query(`SELECT contract_id::text AS id, document->'price' AS price FROM contract_documents WHERE contract_id = ANY($1::uuid[])`, [contractIds])) as Array<{ id: string; price: { perInvocation: unknown; currency: string } | null }>;
  // Documents signed before prices were strings carry a JSON number: its decimal text is the signed value.
  return new Map(rows.map((r) => [r.id, r.price ? { perInvocation: String(r.price.perInvocation), currency: r.price.currency } : null]));
}

/** The roles and status of a participant, or null. */
export async function readParticipant(q: Queryable, id: string): Promise<{ roles: string[]; status: string } | null> {
  const rows = (await q.query('SELECT roles, status FROM participants WHERE id = $1', [id])) as Array<{ roles: string[]; status: string }>;
  return rows[0] ?? null;
}

/** One issued statement row. */
export interface StatementRow {
  id: string;
  party_id: string;
  role: StatementRole;
  canonical: string;
  digest: string;
  signature: string;
}

/** Store an issued statement (in the caller's transaction). */
export async function insertStatement(q: Queryable, row: StatementRow & { from: string; to: string; treeSize: number; issuedBy: string }): Promise<void> {
  await q.query(
    `INSERT INTO statements (id, party_id, role, period_from, period_to, tree_size, canonical, digest, signature, issued_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [row.id, row.party_id, row.role, row.from, row.to, row.treeSize, row.canonical, row.digest, row.signature, row.issuedBy],
  );
}

/** An issued statement by id, or null. */
export async function readStatement(q: Queryable, id: string): Promise<StatementRow | null> {
  const rows = (await q.query('SELECT id, party_id, role, canonical, digest, signature FROM statements WHERE id = $1', [id])) as StatementRow[];
  return rows[0] ?? null;
}
