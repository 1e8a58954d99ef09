/**
 * The service's check of a provider-signed result (tds.result.v1) before it
 * is stored: the Ed25519 signature over the result's RFC 8785 bytes by one of
 * the provider's keys, the bindings (job, contract, dataset digest, analysis
 * digest, and the columns the analysis asks for), and a re-check of the
 * released cells against the signed output policy. The node applies
 * disclosure control; this re-check means a faulty or tampered node still
 * cannot release a small count. Pure: no I/O.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8, fromBase64Url } from '../crypto/sha256.js';
import { publicKeyFromJwk, verify, type PublicJwk } from '../crypto/ed25519.js';
import { mismatch } from '../errors.js';
import type { OutputPolicy } from '../agreements/output-policy.js';
import type { Analysis } from './analysis-check.js';
import type { ResultV1 } from '../generated/contracts.js';

/** A tds.result.v1 document (already schema-checked): the type generated from result.v1. */
export type ResultDocument = ResultV1;

type Cell = ResultV1['rows'][number][number];

/** The RFC 8785 text of a result and its digest (resultDigest). */
export function canonicalResult(result: ResultDocument): { canonical: string; resultDigest: string } {
  const canonical = canonicalize(result);
  return { canonical, resultDigest: toHex(sha256(utf8(canonical))) };
}

/** The kid of the first key whose Ed25519 signature (base64url) over canonical verifies, or null. */
export function verifyingKey(canonical: string, signatureB64u: string, keys: ReadonlyArray<{ kid: string; public_jwk: PublicJwk }>): string | null {
  let sig: Uint8Array;
  try {
    sig = fromBase64Url(signatureB64u);
  } catch {
    return null;
  }
  const bytes = utf8(canonical);
  for (const k of keys) {
    try {
      if (verify(sig, bytes, publicKeyFromJwk(k.public_jwk))) return k.kid;
    } catch {
      // a malformed stored key verifies nothing
    }
  }
  return null;
}

/** The result columns an analysis asks for, in order (SPEC: groupBy, then count or <fn>_<column>; regression: term, estimate, stdError). */
export function expectedColumns(analysis: Analysis): string[] {
  if (analysis.type === 'regression') return ['term', 'estimate', 'stdError'];
  return [...(analysis.groupBy ?? []), ...analysis.measures.map((m) => (m.fn === 'count' ? 'count' : `${m.fn}_${m.column}`))];
}

/** What the result is bound to. */
export interface ResultBindings {
  jobId: string;
  contractId: string;
  datasetSha256: string;
  analysisDigest: string;
  analysis: Analysis;
}

/** Throw RESULT_MISMATCH unless the result is for this job, contract, dataset bytes and analysis, with its columns. */
export function checkBindings(result: ResultDocument, b: ResultBindings): void {
  const wrong: Array<{ pointer: string; message: string }> = [];
  if (result.jobId !== b.jobId) wrong.push({ pointer: '/result/jobId', message: 'not this job' });
  if (result.contractId !== b.contractId) wrong.push({ pointer: '/result/contractId', message: "not this job's contract" });
  if (result.datasetSha256 !== b.datasetSha256) wrong.push({ pointer: '/result/datasetSha256', message: 'not the digest the contract names' });
  if (result.analysisDigest !== b.analysisDigest) wrong.push({ pointer: '/result/analysisDigest', message: "not the job's analysis" });
  if (result.status !== 'fail') {
    const want = expectedColumns(b.analysis);
    const got = result.columns.map((c) => c.name);
    if (want.join('\u0000') !== got.join('\u0000')) wrong.push({ pointer: '/result/columns', message: `expected columns ${want.join(', ')}` });
    result.rows.forEach((r, i) => {
      if (r.length !== got.length) wrong.push({ pointer: `/result/rows/${i}`, message: `has ${r.length} cells for ${got.length} columns` });
    });
  }
  if (wrong.length > 0) throw mismatch('RESULT_MISMATCH', `the result does not match the job: ${wrong.map((w) => `${w.pointer} ${w.message}`).join('; ')}`, wrong);
}

function countProblem(v: Cell, policy: OutputPolicy): string | null {
  if (typeof v !== 'number' || !Number.isInteger(v)) return 'a count must be an integer';
  if (v < policy.minCellCount) return `a count below minCellCount ${policy.minCellCount}`;
  if (v % policy.roundTo !== 0) return `a count not a multiple of roundTo ${policy.roundTo}`;
  return null;
}

/**
 * Throw OUTPUT_POLICY_VIOLATION when the released cells break the policy: a
 * count below minCellCount or not a multiple of roundTo, more than maxRows
 * rows, a regression without n or residualDf or below the limits, or rows in
 * a failed result (a failure releases nothing).
 */
export function checkReleasedCells(result: ResultDocument, analysis: Analysis, policy: OutputPolicy): void {
  const bad: Array<{ pointer: string; message: string }> = [];
  if (result.status === 'fail') {
    if (result.rows.length > 0) bad.push({ pointer: '/result/rows', message: 'a failed result releases no rows' });
  } else {
    if (result.rows.length > policy.maxRows) bad.push({ pointer: '/result/rows', message: `more than maxRows ${policy.maxRows} rows` });
    if (analysis.type === 'aggregate') {
      const countCols = result.columns.map((c, i) => (c.name === 'count' ? i : -1)).filter((i) => i >= 0);
      result.rows.forEach((row, r) => {
        for (const c of countCols) {
          if (row[c] === null) continue; // suppressed cell
          const p = countProblem(row[c] ?? null, policy);
          if (p) bad.push({ pointer: `/result/rows/${r}/${c}`, message: p });
        }
      });
    } else {
      const n = result.n ?? null;
      const p = n === null ? 'a regression result states n' : countProblem(n, policy);
      if (p) bad.push({ pointer: '/result/n', message: p });
      if (result.residualDf === undefined || result.residualDf < policy.minResidualDf) bad.push({ pointer: '/result/residualDf', message: `residual degrees of freedom below minResidualDf ${policy.minResidualDf}` });
    }
  }
  if (bad.length > 0) throw mismatch('OUTPUT_POLICY_VIOLATION', `the result breaks the contract's output policy: ${bad.slice(0, 20).map((b) => `${b.pointer} ${b.message}`).join('; ')}`, bad.slice(0, 100));
}

/** Outcome counts per check, summed over cells (for the ledger's job.result). */
export function checkCounts(result: ResultDocument): Record<string, Record<string, number>> {
  // Maps, not objects: check names come from the node and must not reach Object.prototype.
  const out = new Map<string, Map<string, number>>();
  for (const c of result.disclosure.checks) {
    const byOutcome = out.get(c.check) ?? new Map<string, number>();
    byOutcome.set(c.outcome, (byOutcome.get(c.outcome) ?? 0) + c.cells);
    out.set(c.check, byOutcome);
  }
  return Object.fromEntries([...out].map(([k, v]) => [k, Object.fromEntries(v)]));
}
