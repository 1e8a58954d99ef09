/**
 * The `tds.statement.v1` document and the pure rules that build it from
 * ledger entries: which `job.authorized` entries a party's statement counts,
 * how they group into lines per contract, and what each line and total
 * amounts to (BigInt minor units, never floats). The service, the settlement
 * view and the party's own verifier (`tds statement verify`) all run this
 * code, so a statement is recomputed offline exactly as it was issued.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8, fromBase64Url, toBase64Url } from '../crypto/sha256.js';
import { sign, verify } from '../crypto/ed25519.js';
import { multiplyAmount, totalsByCurrency, type CurrencyTable } from '../money/money.js';

/** The document type: part of the signed bytes, so the format cannot change silently. */
export const STATEMENT_TYPE = 'tds.statement.v1';

/** ISO 4217 "no currency involved": the currency of lines of free contracts (perInvocation and amount "0"). */
export const FREE_CURRENCY = 'XXX';

/** Which side of its contracts a statement is about. */
export type StatementRole = 'provider' | 'consumer';

/** One contract's releases in the period. */
export interface StatementLine {
  contractId: string;
  datasetId: string;
  /** The other party of the contract. */
  counterparty: string;
  perInvocation: string;
  currency: string;
  invocations: number;
  /** invocations × perInvocation, exactly. */
  amount: string;
  /** Ledger indexes of the counted job.authorized entries, ascending. */
  entries: number[];
}

/** The signed statement. */
export interface Statement {
  type: typeof STATEMENT_TYPE;
  id: string;
  party: string;
  role: StatementRole;
  /** Period start (inclusive), ISO 8601 UTC with milliseconds. */
  from: string;
  /** Period end (exclusive). */
  to: string;
  /** The statement counts entries with index < treeSize, a size covered by a signed checkpoint. */
  treeSize: number;
  /** Standard base64 Merkle root of that checkpoint. */
  rootHash: string;
  lines: StatementLine[];
  totals: Array<{ currency: string; amount: string }>;
  issuedAt: string;
}

/** What POST /statements and GET /statements/:id answer. */
export interface SignedStatement {
  statement: Statement;
  /** base64url Ed25519 by the service's ledger key over the RFC 8785 bytes of `statement`. */
  signature: string;
}

/** A counted release: the facts of one job.authorized entry a statement needs. */
export interface Release {
  index: number;
  at: string;
  contractId: string;
  datasetId: string;
  provider: string;
  consumer: string;
  /** The contract's invocation number (1..k, contiguous per contract). */
  invocation: number;
}

/** A contract's parties and price, as its contract.activated entry (or its signed document) states them. */
export interface ContractTerms {
  contractId: string;
  provider: string;
  consumer: string;
  price: { perInvocation: string; currency: string } | null;
}

/** A ledger entry as the pure rules read it (the parsed JSON object). */
export interface EntryObject {
  index: number;
  kind: string;
  at: string;
  actor: string;
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

/** The release facts of a job.authorized entry, or null when it lacks them (then it is not countable). */
export function releaseOf(e: EntryObject): Release | null {
  if (e.kind !== 'job.authorized') return null;
  const { contract, dataset, provider, consumer } = e.subjects ?? {};
  const invocation = e.data?.invocation;
  if (!contract || !dataset || !provider || !consumer || typeof invocation !== 'number') return null;
  return { index: e.index, at: e.at, contractId: contract, datasetId: dataset, provider, consumer, invocation };
}

/** The terms in a contract.activated entry; price undefined when the entry predates prices in the ledger. */
export function termsOf(e: EntryObject): (Omit<ContractTerms, 'price'> & { price: ContractTerms['price'] | undefined }) | null {
  if (e.kind !== 'contract.activated') return null;
  const { contract, provider, consumer } = e.subjects ?? {};
  if (!contract || !provider || !consumer) return null;
  const price = e.data && 'price' in e.data ? (e.data.price as ContractTerms['price']) : undefined;
  return { contractId: contract, provider, consumer, price };
}

/** True when the release falls in [from, to) (instants compared, so any ISO form of the bounds works). */
export function inPeriod(at: string, from: string, to: string): boolean {
  const t = Date.parse(at);
  return t >= Date.parse(from) && t < Date.parse(to);
}

/** The releases a statement of (party, role, period) counts, in index order. */
export function countedReleases(releases: readonly Release[], q: { party: string; role: StatementRole; from: string; to: string }): Release[] {
  return releases.filter((r) => (q.role === 'provider' ? r.provider : r.consumer) === q.party && inPeriod(r.at, q.from, q.to)).sort((a, b) => a.index - b.index);
}

/**
 * The lines of a statement: one per contract with counted releases, ordered
 * by contract id, each with its exact amount. Throws when a contract's terms
 * are unknown (fail closed: no line without a price source).
 */
export function buildLines(table: CurrencyTable, counted: readonly Release[], terms: ReadonlyMap<string, ContractTerms>, role: StatementRole): StatementLine[] {
  const byContract = new Map<string, Release[]>();
  for (const r of counted) {
    const list = byContract.get(r.contractId) ?? [];
    list.push(r);
    byContract.set(r.contractId, list);
  }
  return [...byContract.keys()].sort().map((contractId) => {
    const rs = byContract.get(contractId)!;
    const t = terms.get(contractId);
    if (!t) throw new Error(`no contract.activated terms for contract ${contractId}`);
    const perInvocation = t.price?.perInvocation ?? '0';
    const currency = t.price?.currency ?? FREE_CURRENCY;
    return {
      contractId,
      datasetId: rs[0]!.datasetId,
      counterparty: role === 'provider' ? rs[0]!.consumer : rs[0]!.provider,
      perInvocation,
      currency,
      invocations: rs.length,
      amount: multiplyAmount(table, perInvocation, currency, rs.length),
      entries: rs.map((r) => r.index),
    };
  });
}

/** Totals per currency of the lines, exactly, in currency-code order. */
export function totalsOf(table: CurrencyTable, lines: readonly StatementLine[]): Statement['totals'] {
  return totalsByCurrency(table, lines);
}

/** RFC 8785 bytes of a statement and their SHA-256 hex (the `statement.issued` digest). */
export function canonicalizeStatement(s: Statement): { canonical: string; digest: string } {
  const canonical = canonicalize(s);
  return { canonical, digest: toHex(sha256(utf8(canonical))) };
}

/** Sign a statement with the ledger key (base64url Ed25519 over its RFC 8785 bytes). */
export function signStatement(s: Statement, secretKey: Uint8Array): string {
  return toBase64Url(sign(utf8(canonicalizeStatement(s).canonical), secretKey));
}

/** Check a statement's signature against the ledger's public key. */
export function verifyStatementSignature(s: SignedStatement, publicKey: Uint8Array): boolean {
  try {
    return verify(fromBase64Url(s.signature), utf8(canonicalizeStatement(s.statement).canonical), publicKey);
  } catch {
    return false;
  }
}
