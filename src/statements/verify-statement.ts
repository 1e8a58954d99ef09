/**
 * The party's own check of a statement (`tds statement verify`), trusting
 * only the ledger key it pinned: the signature, then every served entry of
 * the party against a signed checkpoint consistent with the statement's tree,
 * then completeness (each contract's job.authorized entries carry invocation
 * numbers 1..n: a hidden entry leaves a gap, a doubled one a repeat), then
 * every line, amount and total recomputed exactly. Pure: the CLI fetches the
 * pages and proofs, this module decides; it names the first discrepancy.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { fromBase64, toBase64 } from '../crypto/sha256.js';
import { openNote, parseVerifierKey } from '../ledger/checkpoint.js';
import { leafHashOfText } from '../ledger/ledger-entry.js';
import { verifyConsistency, verifyInclusion } from '../ledger/merkle.js';
import { amountProblem, multiplyAmount, type CurrencyTable } from '../money/money.js';
import {
  FREE_CURRENCY, STATEMENT_TYPE, buildLines, countedReleases, releaseOf, termsOf, totalsOf, verifyStatementSignature,
  type ContractTerms, type EntryObject, type CountedRelease, type SignedStatement, type StatementLine,
} from './statement-document.js';

/** One page of GET /v1/ledger/mine. */
export interface PartyPage {
  treeSize: number;
  checkpoint: string;
  entries: Array<{ index: number; entry: unknown; leafHash: string; proof: string[] }>;
}

/** Everything the check reads. */
export interface VerifyStatementInput {
  signed: SignedStatement;
  /** The pinned ledger verifier key (`<origin>+<hex id>+<base64(0x01||key)>`). */
  logKey: string;
  /** The participant id of the key file: the statement must be about it. */
  partyId: string;
  /** The party's pages, from index 0, covering every index below the statement's tree size. */
  pages: PartyPage[];
  /** Consistency proofs (standard base64) from the statement's tree size to each page tree size larger than it. */
  consistency: Record<number, string[]>;
  /** Prices of contracts whose contract.activated entry predates prices in the ledger, read from their signed documents (digest-checked by the caller). */
  documentPrices?: Record<string, ContractTerms['price']>;
}

/** The verdict: the first problem, or what was recomputed. */
export type VerifyStatementResult =
  | { ok: true; lines: StatementLine[]; totals: Array<{ currency: string; amount: string }>; entriesChecked: number; releasesInTree: number }
  | { ok: false; problem: string };

class Discrepancy extends Error {}
const fail = (problem: string): never => {
  throw new Discrepancy(problem);
};

/** Verify a signed statement; never throws for bad input, it reports it. */
export function verifyStatement(table: CurrencyTable, input: VerifyStatementInput): VerifyStatementResult {
  try {
    return check(table, input);
  } catch (e) {
    if (e instanceof Discrepancy) return { ok: false, problem: e.message };
    return { ok: false, problem: `malformed input: ${(e as Error).message}` };
  }
}

function check(table: CurrencyTable, input: VerifyStatementInput): VerifyStatementResult {
  const { signed, partyId } = input;
  const s = signed.statement;
  if (s?.type !== STATEMENT_TYPE) fail(`not a ${STATEMENT_TYPE} document`);
  if (s.party !== partyId) fail(`the statement is about ${s.party}, not the key file's participant ${partyId}`);
  const verifier = parseVerifierKey(input.logKey);
  if (!verifyStatementSignature(signed, verifier.publicKey)) fail('signature: does not verify with the pinned ledger key over the RFC 8785 bytes of the statement');

  const entries = provenEntries(input, verifier);
  const releases: CountedRelease[] = [];
  const terms = new Map<string, ContractTerms>();
  const exhausted = new Map<string, { index: number; used: number }>();
  for (const e of entries.values()) {
    const r = releaseOf(e);
    if (r) releases.push(r);
    const t = termsOf(e);
    if (t) {
      const price = t.price !== undefined ? t.price : input.documentPrices?.[t.contractId];
      if (price === undefined) fail(`contract ${t.contractId}: its contract.activated entry (index ${e.index}) carries no price and no signed document price was supplied`);
      terms.set(t.contractId, { ...t, price: price! });
    }
    if (e.kind === 'contract.exhausted' && e.subjects?.contract && typeof e.data?.invocationsUsed === 'number') {
      exhausted.set(e.subjects.contract, { index: e.index, used: e.data.invocationsUsed });
    }
  }
  const mine = releases.filter((r) => (s.role === 'provider' ? r.provider : r.consumer) === partyId);
  checkSequences(mine, exhausted);

  const counted = countedReleases(mine, s);
  for (const r of counted) if (!terms.has(r.contractId)) fail(`contract ${r.contractId}: no contract.activated entry among the party's entries below tree size ${s.treeSize}`);
  const expected = buildLines(table, counted, terms, s.role);
  compareLines(table, s.lines, expected, counted);
  const totals = totalsOf(table, expected);
  const served = JSON.stringify(s.totals ?? []);
  if (served !== JSON.stringify(totals)) fail(`totals: the statement says ${fmtTotals(s.totals ?? [])}, the ledger gives ${fmtTotals(totals)}`);
  return { ok: true, lines: expected, totals, entriesChecked: entries.size, releasesInTree: mine.length };
}

const fmtTotals = (t: Array<{ currency: string; amount: string }>) => (t.length ? t.map((x) => `${x.amount} ${x.currency}`).join(', ') : 'nothing');

/** Every served entry below the statement's tree size, proven: signed checkpoint, consistency with the statement's root, leaf hash, inclusion proof. */
function provenEntries(input: VerifyStatementInput, verifier: ReturnType<typeof parseVerifierKey>): Map<number, EntryObject> {
  const s = input.signed.statement;
  const root = fromBase64(s.rootHash);
  const out = new Map<number, EntryObject>();
  if (input.pages.length === 0) fail('no ledger pages of the party were supplied');
  for (const page of input.pages) {
    let cp;
    try {
      cp = openNote(page.checkpoint, verifier).checkpoint;
    } catch (e) {
      fail(`checkpoint of size ${page.treeSize}: ${(e as Error).message}`);
    }
    if (cp!.size !== page.treeSize) fail(`ledger page: treeSize ${page.treeSize} but its checkpoint is of size ${cp!.size}`);
    if (cp!.size < s.treeSize) fail(`ledger page: its checkpoint (size ${cp!.size}) is older than the statement's tree size ${s.treeSize}`);
    if (cp!.size === s.treeSize) {
      if (toBase64(cp!.rootHash) !== s.rootHash) fail(`rootHash: the statement's root differs from the signed checkpoint of size ${s.treeSize}`);
    } else {
      const proof = input.consistency[cp!.size];
      if (!proof) fail(`no consistency proof from tree size ${s.treeSize} to ${cp!.size}`);
      try {
        verifyConsistency(s.treeSize, cp!.size, proof!.map(fromBase64), root, cp!.rootHash);
      } catch (e) {
        fail(`rootHash: the statement's tree (size ${s.treeSize}) is not consistent with the signed checkpoint of size ${cp!.size}: ${(e as Error).message}`);
      }
    }
    for (const served of page.entries) {
      const e = served.entry as EntryObject;
      if (typeof e !== 'object' || e === null || e.index !== served.index) fail(`ledger entry ${served.index}: its index field does not match`);
      const leaf = leafHashOfText(canonicalize(e));
      if (toBase64(leaf) !== served.leafHash) fail(`ledger entry ${served.index}: its bytes do not hash to the served leaf hash`);
      try {
        verifyInclusion(served.index, cp!.size, leaf, served.proof.map(fromBase64), cp!.rootHash);
      } catch (err) {
        fail(`ledger entry ${served.index}: inclusion proof fails (${(err as Error).message})`);
      }
      if (served.index < s.treeSize) out.set(served.index, e);
    }
  }
  return out;
}

/** Each contract's invocation numbers must be exactly 1..n below the tree size: a gap is a hidden entry, a repeat a double count. */
function checkSequences(mine: readonly CountedRelease[], exhausted: ReadonlyMap<string, { index: number; used: number }>): void {
  const byContract = new Map<string, CountedRelease[]>();
  for (const r of mine) byContract.set(r.contractId, [...(byContract.get(r.contractId) ?? []), r]);
  for (const [contractId, rs] of [...byContract.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    rs.sort((a, b) => a.invocation - b.invocation || a.index - b.index);
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (i > 0 && r.invocation === rs[i - 1]!.invocation) fail(`contract ${contractId}: invocation ${r.invocation} is recorded twice (ledger indexes ${rs[i - 1]!.index} and ${r.index})`);
      if (r.invocation !== i + 1) fail(`contract ${contractId}: invocation ${i + 1} is missing from the party's ledger entries (next seen: invocation ${r.invocation} at index ${r.index})`);
    }
    const ex = exhausted.get(contractId);
    if (ex && ex.used !== rs.length) fail(`contract ${contractId}: contract.exhausted (index ${ex.index}) says ${ex.used} invocations, the party's entries show ${rs.length}`);
  }
}

/** Compare the statement's lines with the recomputed ones; the first difference is the problem. */
function compareLines(table: CurrencyTable, lines: readonly StatementLine[], expected: readonly StatementLine[], counted: readonly CountedRelease[]): void {
  if (!Array.isArray(lines)) fail('lines: missing');
  const seen = new Map<number, string>();
  for (const l of lines) {
    for (const idx of l.entries ?? []) {
      const other = seen.get(idx);
      if (other !== undefined) fail(`ledger index ${idx} is counted twice (lines of contract ${other} and ${l.contractId})`);
      seen.set(idx, l.contractId);
    }
  }
  const byIndex = new Map(counted.map((r) => [r.index, r]));
  const want = new Map(expected.map((l) => [l.contractId, l]));
  const contracts = new Set<string>();
  for (const l of lines) {
    if (contracts.has(l.contractId)) fail(`contract ${l.contractId} has more than one line`);
    contracts.add(l.contractId);
    const w = want.get(l.contractId);
    if (!w) fail(`line for contract ${l.contractId}: the party has no job.authorized of this contract in the period`);
    for (const idx of l.entries) {
      const r = byIndex.get(idx);
      if (!r || r.contractId !== l.contractId) fail(`line for contract ${l.contractId}: ledger index ${idx} is not a job.authorized of this contract in the period`);
    }
  }
  // Indexes claimed by a wrong line are named before the gaps they leave in the right one.
  for (const l of lines) {
    const w = want.get(l.contractId);
    const missing = w!.entries.find((idx) => !l.entries.includes(idx));
    if (missing !== undefined) {
      const r = byIndex.get(missing)!;
      fail(`line for contract ${l.contractId}: job.authorized at ledger index ${missing} (invocation ${r.invocation}, at ${r.at}) is in the period but not counted`);
    }
    if (l.invocations !== l.entries.length) fail(`line for contract ${l.contractId}: invocations ${l.invocations} but ${l.entries.length} ledger entries listed`);
    if (l.perInvocation !== w!.perInvocation || l.currency !== w!.currency) {
      fail(`line for contract ${l.contractId}: price ${l.perInvocation} ${l.currency} differs from the contract's ${w!.perInvocation} ${w!.currency}`);
    }
    if (l.currency !== FREE_CURRENCY && amountProblem(table, l.amount, l.currency) !== null) fail(`line for contract ${l.contractId}: amount "${l.amount}" is not a valid ${l.currency} amount`);
    const exact = multiplyAmount(table, w!.perInvocation, w!.currency, l.entries.length);
    if (l.amount !== exact) fail(`line for contract ${l.contractId}: amount ${l.amount} ${l.currency} is not ${l.entries.length} × ${w!.perInvocation} = ${exact}`);
    if (l.datasetId !== w!.datasetId || l.counterparty !== w!.counterparty) fail(`line for contract ${l.contractId}: dataset or counterparty differs from the ledger's`);
  }
  for (const w of expected) {
    if (!contracts.has(w.contractId)) fail(`contract ${w.contractId}: ${w.invocations} job.authorized in the period (first at ledger index ${w.entries[0]}) but no line`);
  }
}
