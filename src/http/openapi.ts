/**
 * The OpenAPI 3.1 document, built from the operation catalogue below and the
 * JSON Schemas in contracts/. A test compares the catalogue with the routes
 * the app really has, so the two cannot drift apart.
 */
import type { SchemaRegistry } from './validation.js';
import { schemaIdOf } from './validation.js';

/** One documented operation. */
export interface Operation {
  method: 'get' | 'post';
  path: string; // OpenAPI form: /v1/participants/{id}
  summary: string;
  auth: 'none' | 'bearer' | 'self-signed';
  body?: string; // schema short name
  query?: string; // schema short name
  ok: number;
  produces?: string;
}

/** Every operation the service exposes. */
export const OPERATIONS: Operation[] = [
  { method: 'get', path: '/healthz', summary: 'Process is up', auth: 'none', ok: 200 },
  { method: 'get', path: '/readyz', summary: 'Database is reachable', auth: 'none', ok: 200 },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', auth: 'none', ok: 200, produces: 'text/plain' },
  { method: 'get', path: '/.well-known/jwks.json', summary: "The service's public keys: release tokens and ledger checkpoints", auth: 'none', ok: 200 },
  { method: 'get', path: '/openapi.json', summary: 'This document', auth: 'none', ok: 200 },
  { method: 'get', path: '/console', summary: 'The web console (static files under /console/; its API calls are signed in the page)', auth: 'none', ok: 200, produces: 'text/html' },
  { method: 'get', path: '/console/config.json', summary: "The console's settings (the token audience)", auth: 'none', ok: 200 },
  { method: 'post', path: '/v1/participants', summary: 'Register (token signed by the key being registered, iss = its thumbprint)', auth: 'self-signed', body: 'participant-registration.v1', ok: 201 },
  { method: 'get', path: '/v1/participants', summary: 'Directory', auth: 'bearer', query: 'participant-query.v1', ok: 200 },
  { method: 'get', path: '/v1/participants/{id}', summary: 'Directory entry', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/approve', summary: 'Operator: approve', auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/suspend', summary: 'Operator: suspend', auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/keys', summary: 'Rotate own key', auth: 'bearer', body: 'key-rotation.v1', ok: 200 },
  { method: 'post', path: '/v1/datasets', summary: 'Provider: publish a dataset (consumers: insight datasets)', auth: 'bearer', body: 'dataset.v1', ok: 201 },
  { method: 'get', path: '/v1/datasets', summary: 'Catalog (filters researchField, kind, provider, q, status; cursor pagination)', auth: 'bearer', query: 'dataset-query.v1', ok: 200 },
  { method: 'get', path: '/v1/datasets/{id}', summary: 'One dataset', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/datasets/{id}/withdraw', summary: 'Owning provider: withdraw', auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/datasets/{id}/offers', summary: 'Owning provider: publish an offer', auth: 'bearer', body: 'offer.v1', ok: 201 },
  { method: 'get', path: '/v1/datasets/{id}/offers', summary: 'Offers of a dataset', auth: 'bearer', ok: 200 },
  { method: 'get', path: '/v1/offers/{id}', summary: 'One offer', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/contracts', summary: 'Consumer: propose; returns the canonical document and its digest', auth: 'bearer', body: 'contract-proposal.v1', ok: 201 },
  { method: 'post', path: '/v1/contracts/{id}/signatures', summary: 'Consumer, then provider: sign the canonical bytes', auth: 'bearer', body: 'signature.v1', ok: 200 },
  { method: 'get', path: '/v1/contracts/{id}', summary: 'Parties, operator, auditor: document, signatures, state, used, remaining', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/contracts/{id}/revoke', summary: 'Provider or operator: revoke', auth: 'bearer', body: 'revocation.v1', ok: 200 },
  { method: 'post', path: '/v1/reciprocity-rules', summary: 'Operator (space-wide) or provider (for its offers): create a rule', auth: 'bearer', body: 'reciprocity-rule.v1', ok: 201 },
  { method: 'get', path: '/v1/reciprocity-rules', summary: 'Rules', auth: 'bearer', query: 'rule-query.v1', ok: 200 },
  { method: 'get', path: '/v1/reciprocity/standing', summary: 'What the caller shares in a field and which rules hold', auth: 'bearer', query: 'standing-query.v1', ok: 200 },
  { method: 'post', path: '/v1/jobs', summary: 'Consumer: authorize a job and release the dataset (Idempotency-Key honoured)', auth: 'bearer', body: 'job-request.v1', ok: 201 },
  { method: 'get', path: '/v1/jobs/{id}', summary: 'Job status', auth: 'bearer', ok: 200 },
  { method: 'get', path: '/v1/jobs/{id}/release-status', summary: "Job's provider (its gateway) or operator: may the release still be downloaded (revoked, withdrawn, suspended stop it)", auth: 'bearer', ok: 200 },
  { method: 'get', path: '/v1/jobs', summary: "The caller's jobs: role=consumer (submitted), provider (on its data: the data node's queue, e.g. state=queued), reviewer (held results awaiting its review: state=held); state, contractId filters; oldest first, cursor pagination", auth: 'bearer', query: 'job-query.v1', ok: 200 },
  { method: 'post', path: '/v1/jobs/{id}/claim', summary: "The job's provider (its data node): queued -> running with a lease (TDS_JOB_LEASE_SECONDS); a running job whose lease ran out may be claimed again; answers the analysis, the signed contract document and the dataset", auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/jobs/{id}/result', summary: "The job's provider: the signed tds.result.v1 (signature and bindings verified, released cells re-checked against the contract's outputPolicy; body up to 1 MiB)", auth: 'bearer', body: 'result-submission.v1', ok: 200 },
  { method: 'get', path: '/v1/jobs/{id}/result', summary: 'The signed result: consumer once completed; provider and named reviewers once held or after; operator and auditors digest and status only', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/jobs/{id}/reviews', summary: 'A reviewer named in the outputPolicy: signed vote (approve|reject) over {type: "tds.review.v1", jobId, resultDigest, decision}', auth: 'bearer', body: 'review.v1', ok: 201 },
  { method: 'post', path: '/v1/jobs/{id}/complete', summary: 'Consumer: report completion with the result digest', auth: 'bearer', body: 'job-completion.v1', ok: 200 },
  { method: 'get', path: '/v1/ledger/checkpoint', summary: 'Any active participant: latest signed checkpoint (C2SP signed note, with witness cosignatures)', auth: 'bearer', ok: 200, produces: 'text/plain' },
  { method: 'get', path: '/v1/ledger/key', summary: 'Any active participant: checkpoint verifier key', auth: 'bearer', ok: 200, produces: 'text/plain' },
  { method: 'get', path: '/v1/ledger/entries', summary: 'Auditor, operator: entries with leaf and chain hashes', auth: 'bearer', query: 'ledger-entries-query.v1', ok: 200 },
  { method: 'get', path: '/v1/jobs/{id}/receipt', summary: "The job's parties, operator, auditors: c2sp.org/tlog-proof@v1 of the job's release (entry bytes in extra, cosigned checkpoint)", auth: 'bearer', ok: 200, produces: 'text/plain' },
  { method: 'get', path: '/v1/ledger/mine', summary: "Any active participant: the entries naming the caller (actor or subject), each with its inclusion proof for the returned checkpoint", auth: 'bearer', query: 'ledger-mine-query.v1', ok: 200 },
  { method: 'get', path: '/v1/ledger/proofs/inclusion', summary: 'Any active participant: RFC 9162 inclusion proof', auth: 'bearer', query: 'inclusion-proof-query.v1', ok: 200 },
  { method: 'get', path: '/v1/ledger/proofs/consistency', summary: 'Any active participant: RFC 9162 consistency proof', auth: 'bearer', query: 'consistency-proof-query.v1', ok: 200 },
  { method: 'post', path: '/v1/statements', summary: 'The party itself or the operator: issue a signed statement (tds.statement.v1) of a period from the ledger', auth: 'bearer', body: 'statement-request.v1', ok: 201 },
  { method: 'get', path: '/v1/statements/{id}', summary: 'The party or the operator: an issued statement and its ledger-key signature', auth: 'bearer', ok: 200 },
  { method: 'get', path: '/v1/settlements', summary: 'Operator: per currency, what each consumer owes and each provider is owed for a period, and whether the sides balance', auth: 'bearer', query: 'settlement-query.v1', ok: 200 },
];

/** Build the OpenAPI 3.1 document. */
export function buildOpenApi(schemas: SchemaRegistry): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (op.query) {
      const q = schemas.schemas.get(schemaIdOf(op.query)) as { properties?: Record<string, object>; required?: string[] } | undefined;
      for (const [name, schema] of Object.entries(q?.properties ?? {})) params.push({ name, in: 'query', required: (q?.required ?? []).includes(name), schema: schema as { type: string } });
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      ...(op.auth === 'none' ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: schemaIdOf(op.body) } } } } } : {}),
      responses: {
        [String(op.ok)]: { description: 'success', content: { [op.produces ?? 'application/json']: {} } },
        default: { description: 'problem', content: { 'application/problem+json': { schema: { $ref: schemaIdOf('problem.v1') } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Trusted Data Space (tds)', version: '1.0.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA, htm/htu bound, single-use jti)' } },
      schemas: Object.fromEntries([...schemas.schemas.entries()].map(([id, s]) => [id.slice(id.lastIndexOf('/') + 1).replace('.schema.json', ''), s])),
    },
    security: [{ bearer: [] }],
    paths,
  };
}
