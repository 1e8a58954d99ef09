/**
 * Compute-to-data factories on top of the real API: a raw dataset that
 * declares its columns, a compute contract signed by both parties, analyses
 * submitted as jobs, and results and review votes signed with real keys.
 */
import { secretKeyFromJwk, sign } from '../../src/crypto/ed25519.js';
import { canonicalize } from '../../src/crypto/canonical-json.js';
import { sha256, toBase64Url, toHex, utf8 } from '../../src/crypto/sha256.js';
import type { TestContext } from './context.js';
import { signed, type Actor } from './actors.js';
import { activeContract, publishDataset } from './scenario.js';

/** The columns of the synthetic patient table used by the compute tests. */
export const PATIENT_COLUMNS = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'sex', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
  { name: 'smoker', type: 'boolean' },
];

/** A grouped count and mean: the analysis most tests submit. */
export const GROUPED_MEAN = { type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] };

/** Publish a raw dataset declaring PATIENT_COLUMNS; returns its id. */
export function publishComputeDataset(ctx: TestContext, provider: Actor, overrides: Record<string, unknown> = {}): Promise<string> {
  return publishDataset(ctx, provider, { schema: { columns: PATIENT_COLUMNS }, ...overrides });
}

/** An active compute contract (offer access compute with this policy); returns its id and dataset id. */
export async function computeContract(
  ctx: TestContext,
  provider: Actor,
  consumer: Actor,
  opts: { outputPolicy?: Record<string, unknown>; maxInvocations?: number; datasetId?: string } = {},
): Promise<{ contractId: string; datasetId: string }> {
  const datasetId = opts.datasetId ?? (await publishComputeDataset(ctx, provider));
  const offer = { access: 'compute', ...(opts.outputPolicy ? { outputPolicy: opts.outputPolicy } : {}) };
  const contractId = await activeContract(ctx, provider, consumer, { datasetId, offer, maxInvocations: opts.maxInvocations ?? 10 });
  return { contractId, datasetId };
}

/** POST /v1/jobs with an analysis. */
export function submitAnalysis(ctx: TestContext, consumer: Actor, contractId: string, analysis: unknown = GROUPED_MEAN, headers: Record<string, string> = {}) {
  return signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006', analysis }, {}, headers);
}

/** SHA-256 hex of a value's RFC 8785 bytes. */
export function digestOf(value: unknown): string {
  return toHex(sha256(utf8(canonicalize(value))));
}

/** base64url Ed25519 signature of a value's RFC 8785 bytes by an actor's key. */
export function signValue(actor: Actor, value: unknown): string {
  return toBase64Url(sign(utf8(canonicalize(value)), secretKeyFromJwk(actor.privateJwk)));
}

/** A tds.result.v1 for a claimed job of GROUPED_MEAN that passes the default policy; overrides merged in. */
export function passingResult(claim: { id: string; contractId: string; analysisDigest: string; document: { dataset: { sha256: string }; outputPolicy?: unknown } }, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'tds.result.v1',
    jobId: claim.id,
    contractId: claim.contractId,
    datasetSha256: claim.document.dataset.sha256,
    analysisDigest: claim.analysisDigest,
    status: 'pass',
    columns: [{ name: 'sex', type: 'string' }, { name: 'count', type: 'integer' }, { name: 'mean_los_days', type: 'number' }],
    rows: [['F', 520, 4.25], ['M', 475, null]],
    disclosure: {
      policy: claim.document.outputPolicy ?? {},
      checks: [{ check: 'minCellCount', outcome: 'pass', cells: 2 }, { check: 'minCellCount', outcome: 'suppressed', cells: 1 }, { check: 'dominance', outcome: 'suppressed', cells: 1 }],
      suppressedRows: 1,
      // What the policy asks, as the node records it: rounding when roundTo > 1 (default 5), the policy's noise.
      rounded: ((claim.document.outputPolicy as { roundTo?: number } | undefined)?.roundTo ?? 5) > 1,
      noise: (claim.document.outputPolicy as { noise?: unknown } | undefined)?.noise ?? null,
    },
    producedAt: '2026-12-01T20:00:00.000Z',
    ...over,
  };
}

/** POST a result signed by `signer` (the provider, unless a test forges it). */
export function postResult(ctx: TestContext, poster: Actor, jobId: string, result: unknown, signer: Actor = poster, signature?: string) {
  return signed(ctx.app, poster, 'post', `/v1/jobs/${jobId}/result`, { result, signature: signature ?? signValue(signer, result) });
}
