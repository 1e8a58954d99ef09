/**
 * The service's check of a provider-signed result (tds.result.v1) before it
 * is stored: the Ed25519 signature over the result's RFC 8785 bytes by one of
 * the provider's keys, the bindings (job, contract, dataset digest, analysis
 * digest, the columns the analysis asks for with their types, one cell per
 * column, a regression's terms), and a re-check of what would be released
 * against the signed output policy (the policy the node says it applied, the
 * cells, the counts, a hold only where a reviewer can end it). The node
 * applies disclosure control; this re-check means a faulty or tampered node
 * still cannot release a small count or text in a statistic's place. Pure:
 * no I/O; importable by the data node (it imports no service-only module).
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8, fromBase64Url } from '../crypto/sha256.js';
import { publicKeyFromJwk, verify, type PublicJwk } from '../crypto/ed25519.js';
import { mismatch } from '../errors.js';
import type { OutputPolicy } from '../agreements/output-policy.js';
import { filterValueFits, measureColumnName, type Analysis } from './analysis-check.js';
import type { DatasetV1Column, ResultV1 } from '../generated/contracts.js';

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

type ColumnType = DatasetV1Column['type'];

/** A column of a result: its name and the type of its cells. */
export type ResultColumn = ResultV1['columns'][number];

/** The columns of a regression's result, in order: one row per term, intercept first. */
export const REGRESSION_RESULT_COLUMNS: readonly ResultColumn[] = Object.freeze([
  { name: 'term', type: 'string' },
  { name: 'estimate', type: 'number' },
  { name: 'stdError', type: 'number' },
] as const);

/**
 * A result column as the analysis alone determines it: a fixed type, or the
 * type of the dataset column it carries (a group key, a min/max); `count`
 * marks the count measure, `measure` every other statistic.
 */
type PlannedColumn =
  | { name: string; type: ColumnType; role: 'count' | 'measure' | 'term' }
  | { name: string; typeOf: string; role: 'key' | 'measure' };

function plannedColumns(analysis: Analysis): PlannedColumn[] {
  if (analysis.type === 'regression') return REGRESSION_RESULT_COLUMNS.map((c) => ({ ...c, role: c.name === 'term' ? 'term' : 'measure' }));
  return [
    ...(analysis.groupBy ?? []).map((name): PlannedColumn => ({ name, typeOf: name, role: 'key' })),
    ...analysis.measures.map((m): PlannedColumn => {
      if (m.fn === 'count') return { name: 'count', type: 'integer', role: 'count' };
      if (m.fn === 'min' || m.fn === 'max') return { name: measureColumnName(m), typeOf: m.column, role: 'measure' };
      return { name: measureColumnName(m), type: 'number', role: 'measure' };
    }),
  ];
}

/**
 * The result columns an analysis asks for, in order, with their types (SPEC
 * "Compute at the data"): an aggregate's groupBy columns, typed as the
 * dataset declares them, then one per measure: `count` (integer), or
 * `<fn>_<column>` (number; min/max take the measured column's type); a
 * regression's `term` (string), `estimate`, `stdError` (number). A column the
 * schema does not declare is typed string. The one definition of a result's
 * columns: the service binds results to it, and the node can write them with it.
 */
export function resultColumns(analysis: Analysis, schema: readonly DatasetV1Column[]): ResultColumn[] {
  const typeOf = (name: string): ColumnType => schema.find((c) => c.name === name)?.type ?? 'string';
  return plannedColumns(analysis).map((p) => ({ name: p.name, type: 'type' in p ? p.type : typeOf(p.typeOf) }));
}

/** What the result is bound to. */
export interface ResultBindings {
  jobId: string;
  contractId: string;
  datasetSha256: string;
  analysisDigest: string;
  analysis: Analysis;
  /** The dataset's declared columns (`schema.columns`): they type the group-key and min/max columns. */
  datasetColumns: readonly DatasetV1Column[];
}

/**
 * Throw RESULT_MISMATCH unless the result is for this job, contract, dataset
 * bytes and analysis, with the analysis's columns (names, order, types), one
 * cell per column in every row, and for a regression one row per term
 * (intercept, then the predictors in order).
 */
export function checkBindings(result: ResultDocument, b: ResultBindings): void {
  const wrong: Array<{ pointer: string; message: string }> = [];
  if (result.jobId !== b.jobId) wrong.push({ pointer: '/result/jobId', message: 'not this job' });
  if (result.contractId !== b.contractId) wrong.push({ pointer: '/result/contractId', message: "not this job's contract" });
  if (result.datasetSha256 !== b.datasetSha256) wrong.push({ pointer: '/result/datasetSha256', message: 'not the digest the contract names' });
  if (result.analysisDigest !== b.analysisDigest) wrong.push({ pointer: '/result/analysisDigest', message: "not the job's analysis" });
  if (result.status !== 'fail') {
    const expected = resultColumns(b.analysis, b.datasetColumns);
    const want = expected.map((c) => c.name);
    const got = result.columns.map((c) => c.name);
    if (want.join('\u0000') !== got.join('\u0000')) wrong.push({ pointer: '/result/columns', message: `expected columns ${want.join(', ')}` });
    else {
      expected.forEach((c, i) => {
        if (result.columns[i]!.type !== c.type) wrong.push({ pointer: `/result/columns/${i}/type`, message: `${c.name} is ${c.type}` });
      });
    }
    result.rows.forEach((r, i) => {
      if (r.length !== got.length) wrong.push({ pointer: `/result/rows/${i}`, message: `has ${r.length} cells for ${got.length} columns` });
    });
    if (b.analysis.type === 'regression') {
      const terms = ['intercept', ...b.analysis.predictors];
      const gotTerms = result.rows.map((r) => r[0]);
      if (gotTerms.length !== terms.length || gotTerms.some((t, i) => t !== terms[i])) wrong.push({ pointer: '/result/rows', message: `one row per term: ${terms.join(', ')}` });
    }
  }
  if (wrong.length > 0) throw mismatch('RESULT_MISMATCH', `the result does not match the job: ${wrong.slice(0, 20).map((w) => `${w.pointer} ${w.message}`).join('; ')}`, wrong.slice(0, 100));
}

/**
 * Whether a released cell fits its column's type: null (suppressed, or a
 * group of rows without a value), or an integer as the node decodes BIGINT (a
 * JSON number), or otherwise the submission check's rule for a value of that
 * type (a finite number, a boolean, a string, a real calendar date
 * YYYY-MM-DD, which is how the node's DuckDB answers encode DATE).
 */
export function cellFits(type: ColumnType, v: Cell): boolean {
  if (v === null) return true;
  if (type === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return filterValueFits(type, v);
}

/** The top-level members of the policy the node says it applied that differ from the contract's (RFC 8785 bytes compared). */
function policyDifferences(applied: unknown, policy: OutputPolicy): string[] {
  if (applied === null || typeof applied !== 'object' || Array.isArray(applied)) return ['(not an object)'];
  const given = applied as Record<string, unknown>;
  const wanted = policy as unknown as Record<string, unknown>;
  const names = new Set([...Object.keys(wanted), ...Object.keys(given)]);
  return [...names].filter((k) => !Object.hasOwn(given, k) || !Object.hasOwn(wanted, k) || canonicalize(given[k]) !== canonicalize(wanted[k])).sort();
}

function countProblem(v: Cell, policy: OutputPolicy): string | null {
  if (typeof v !== 'number' || !Number.isInteger(v)) return 'a count must be an integer';
  if (v < policy.minCellCount) return `a count below minCellCount ${policy.minCellCount}`;
  if (v % policy.roundTo !== 0) return `a count not a multiple of roundTo ${policy.roundTo}`;
  return null;
}

/**
 * Throw OUTPUT_POLICY_VIOLATION when what the result would release breaks
 * the signed policy: a disclosure record naming another policy than the
 * contract's, a hold for review under a policy that names no reviewer (nobody
 * could release or reject it), a count below minCellCount or not a multiple
 * of roundTo, a cell that does not fit its column's type (text in a
 * statistic), more than maxRows rows, a regression without n or residualDf or
 * below the limits, or rows in a failed result (a failure releases nothing).
 */
export function checkReleasedCells(result: ResultDocument, analysis: Analysis, policy: OutputPolicy): void {
  const bad: Array<{ pointer: string; message: string }> = [];
  if (canonicalize(result.disclosure.policy) !== canonicalize(policy)) {
    const differs = policyDifferences(result.disclosure.policy, policy);
    bad.push({ pointer: '/result/disclosure/policy', message: `not the contract's outputPolicy (differs in ${differs.slice(0, 12).join(', ')})` });
  }
  // What the record says was applied must be what the policy asks: rounding when roundTo > 1, the policy's noise.
  const rounded: unknown = result.disclosure.rounded;
  if (typeof rounded === 'boolean' ? rounded !== policy.roundTo > 1 : rounded !== policy.roundTo) {
    bad.push({ pointer: '/result/disclosure/rounded', message: `must be ${policy.roundTo > 1} (or the base ${policy.roundTo}) under roundTo ${policy.roundTo}` });
  }
  if (canonicalize(result.disclosure.noise ?? null) !== canonicalize(policy.noise)) bad.push({ pointer: '/result/disclosure/noise', message: "not the contract's outputPolicy.noise" });
  if (result.status === 'review' && policy.review.reviewers.length === 0) {
    bad.push({ pointer: '/result/status', message: "review, but the contract's outputPolicy names no reviewers: nobody could release or reject the result (the node marks it pass, suppressed cells null)" });
  }
  if (result.status === 'fail') {
    if (result.rows.length > 0) bad.push({ pointer: '/result/rows', message: 'a failed result releases no rows' });
  } else {
    if (result.rows.length > policy.maxRows) bad.push({ pointer: '/result/rows', message: `more than maxRows ${policy.maxRows} rows` });
    const roles = plannedColumns(analysis).map((p) => p.role);
    result.rows.forEach((row, r) => {
      row.forEach((v, c) => {
        const column = result.columns[c];
        if (!column) return; // a row longer than the columns is a binding mismatch
        if (roles[c] === 'count') {
          if (v === null) return; // suppressed cell
          const p = countProblem(v, policy);
          if (p) bad.push({ pointer: `/result/rows/${r}/${c}`, message: p });
        } else if (!cellFits(column.type, v)) {
          bad.push({ pointer: `/result/rows/${r}/${c}`, message: `not ${column.type === 'integer' ? 'an' : 'a'} ${column.type} value` });
        }
      });
    });
    if (analysis.type === 'regression') {
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
