/**
 * The compute-to-data calls of the tds API on top of TdsClient: the
 * provider's node (list its queue, claim, post a signed result), the
 * consumer (submit an analysis, fetch the signed result) and reviewers
 * (vote on a held result), plus the offline checks anyone can make of a
 * signed result or vote. Signing uses the same canonical bytes the service
 * verifies (RFC 8785) and the key of the caller's credentials file.
 */
import { canonicalBytes } from '../crypto/canonical-json.js';
import { publicKeyFromJwk, secretKeyFromJwk, sign, verify, type PublicJwk } from '../crypto/ed25519.js';
import { fromBase64Url, sha256, toBase64Url, toHex } from '../crypto/sha256.js';
import { newIdempotencyKey, type TdsClient } from './tds-client.js';

/** A compute job as the API lists it (fields the CLI and node read). */
export interface ComputeJob {
  id: string;
  state: string;
  access?: string;
  contractId: string;
  datasetId?: string;
  consumerId?: string;
  providerId?: string;
  purpose?: string;
  analysis?: unknown;
  analysisDigest?: string;
  leaseUntil?: string | null;
  resultDigest?: string | null;
  reason?: string | null;
}

/** What POST /v1/jobs/:id/claim answers: the job plus the signed contract terms and where its data is. */
export interface ClaimedJob extends ComputeJob {
  analysis: unknown;
  analysisDigest: string;
  document?: Record<string, unknown>;
  contract?: Record<string, unknown>;
  dataset?: { id: string; distribution: { url: string; sha256: string; byteSize?: number; mediaType?: string }; schema?: { columns?: unknown[] } };
  leaseUntil: string;
}

/** A signed result as GET /v1/jobs/:id/result answers it. */
export interface SignedResult {
  result: Record<string, unknown>;
  signature: string;
  state?: string;
  resultDigest?: string;
}

/** One page of jobs. */
export interface JobPage {
  items: ComputeJob[];
  nextCursor?: string | null;
}

/** GET /v1/jobs for the caller in a role (consumer or provider), optionally in one state. */
export async function listJobs(client: TdsClient, q: { role: 'consumer' | 'provider' | 'reviewer'; state?: string; contractId?: string; limit?: number; cursor?: string }): Promise<JobPage> {
  const params = new URLSearchParams({ role: q.role });
  if (q.state) params.set('state', q.state);
  if (q.contractId) params.set('contractId', q.contractId);
  if (q.limit) params.set('limit', String(q.limit));
  if (q.cursor) params.set('cursor', q.cursor);
  const page = await client.request<JobPage | { jobs?: ComputeJob[]; items?: ComputeJob[]; nextCursor?: string | null }>('GET', `/v1/jobs?${params.toString()}`);
  // Tolerate either list member name: the page shape is {items, nextCursor} in the API description.
  const p = page as { items?: ComputeJob[]; jobs?: ComputeJob[]; nextCursor?: string | null };
  return { items: p.items ?? p.jobs ?? [], nextCursor: p.nextCursor ?? null };
}

/** The provider's node takes a queued job (or one whose lease ran out). */
export function claimJob(client: TdsClient, jobId: string): Promise<ClaimedJob> {
  return client.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/claim`);
}

/** SHA-256 hex of a document's RFC 8785 bytes (analysisDigest, resultDigest). */
export function digestOf(doc: unknown): string {
  return toHex(sha256(canonicalBytes(doc)));
}

/** base64url Ed25519 signature of a document's RFC 8785 bytes with a private JWK. */
export function signDocument(doc: unknown, privateJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string }): string {
  return toBase64Url(sign(canonicalBytes(doc), secretKeyFromJwk(privateJwk)));
}

/** Whether `signature` is a valid Ed25519 signature of the document's RFC 8785 bytes by `jwk`. */
export function verifyDocumentSignature(doc: unknown, signature: string, jwk: PublicJwk): boolean {
  try {
    return verify(fromBase64Url(signature), canonicalBytes(doc), publicKeyFromJwk(jwk));
  } catch {
    return false;
  }
}

/** POST /v1/jobs/:id/result with the provider's signature over the result. */
export function postResult(client: TdsClient, jobId: string, body: { result: unknown; signature: string }): Promise<ComputeJob> {
  return client.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/result`, body);
}

/** GET /v1/jobs/:id/result. */
export function getResult(client: TdsClient, jobId: string): Promise<SignedResult> {
  return client.request('GET', `/v1/jobs/${encodeURIComponent(jobId)}/result`);
}

/** The consumer submits an analysis on a compute contract (counted at once, like a release). */
export function submitAnalysis(client: TdsClient, input: { contractId: string; purpose: string; analysis: unknown }, idempotencyKey?: string): Promise<ComputeJob> {
  return client.request('POST', '/v1/jobs', input, { 'idempotency-key': idempotencyKey ?? newIdempotencyKey() });
}

/** The vote a reviewer signs: `{type: "tds.review.v1", jobId, resultDigest, decision}`. */
export function reviewVote(jobId: string, resultDigest: string, decision: 'approve' | 'reject'): { type: 'tds.review.v1'; jobId: string; resultDigest: string; decision: 'approve' | 'reject' } {
  return { type: 'tds.review.v1', jobId, resultDigest, decision };
}

/** POST /v1/jobs/:id/reviews with the reviewer's signed vote. */
export function postReview(client: TdsClient, jobId: string, body: { decision: 'approve' | 'reject'; comment?: string; signature: string }): Promise<ComputeJob> {
  return client.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/reviews`, body);
}
