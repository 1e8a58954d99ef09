/**
 * The OpenAPI 3.1 document, built from the operation catalogue below, the
 * request schemas in contracts/ and the answer schemas in
 * openapi-responses.ts. It is self-contained: every schema sits under
 * components/schemas and every $ref points there, so linters, client
 * generators and gateways can use it as it is. Tests compare the catalogue
 * with the routes the app really has, lint the served document with Redocly,
 * and validate every answer the API tests receive against it.
 *
 * To document a new route: add one entry here (id = operationId, response =
 * a component name from openapi-responses.ts or a contracts/ schema name).
 */
import type { SchemaRegistry } from './validation.js';
import { SCHEMA_BASE } from './validation.js';
import { RESPONSE_SCHEMAS } from './openapi-responses.js';

/** One documented operation. */
export interface Operation {
  /** The operationId: unique, camelCase. */
  id: string;
  method: 'get' | 'post';
  path: string; // OpenAPI form: /v1/participants/{id}
  summary: string;
  auth: 'none' | 'bearer' | 'self-signed';
  body?: string; // request schema short name (contracts/)
  query?: string; // query schema short name (contracts/)
  ok: number;
  /** Schema of the success answer: a component of openapi-responses.ts or a contracts/ short name. */
  response: string;
  produces?: string;
  /**
   * The statuses this operation's own checks answer (403, 404, 409, 422, 429, and the few
   * unauthenticated routes' own), each with the codes it carries; the edge's statuses are added
   * to every operation that can meet them (see errorResponses). Read from the services: the
   * document follows the server, and every answer of the API tests must be declared here.
   */
  errors: Partial<Record<403 | 404 | 409 | 422 | 429 | 401 | 503, string>>;
  /** POST /v1/jobs: the Idempotency-Key request header and the Idempotent-Replayed answer header. */
  idempotent?: true;
}

const NOT_FOUND = 'NOT_FOUND (also for a malformed id)';

/** Every operation the service exposes. */
export const OPERATIONS: Operation[] = [
  { id: 'health', method: 'get', path: '/healthz', summary: 'Process is up', auth: 'none', response: 'Health', ok: 200, errors: {} },
  { id: 'ready', method: 'get', path: '/readyz', summary: 'Database is reachable', auth: 'none', response: 'Health', ok: 200, errors: { 503: 'the database is not reachable (the same Health document, status "not ready")' } },
  { id: 'metrics', method: 'get', path: '/metrics', summary: 'Prometheus metrics', auth: 'none', response: 'Text', ok: 200, produces: 'text/plain', errors: { 401: 'AUTH_REQUIRED: TDS_METRICS_TOKEN is set and the request does not carry it', 404: 'ROUTE_NOT_FOUND: TDS_METRICS=off' } },
  { id: 'getJwks', method: 'get', path: '/.well-known/jwks.json', summary: "The service's public keys (release tokens)", auth: 'none', response: 'Jwks', ok: 200, errors: {} },
  { id: 'getConsole', method: 'get', path: '/console', summary: 'The web console (static files under /console/; its API calls are signed in the page)', auth: 'none', response: 'Text', ok: 200, produces: 'text/html', errors: { 404: 'ROUTE_NOT_FOUND: the console is not built, or no such console file' } },
  { id: 'getConsoleConfig', method: 'get', path: '/console/config.json', summary: "The console's settings (the token audience)", auth: 'none', response: 'ConsoleConfig', ok: 200, errors: {} },
  { id: 'getOpenApi', method: 'get', path: '/openapi.json', summary: 'This document', auth: 'none', response: 'OpenApiDocument', ok: 200, errors: {} },
  { id: 'registerParticipant', method: 'post', path: '/v1/participants', summary: 'Register (token signed by the key being registered, iss = its thumbprint)', auth: 'self-signed', body: 'participant-registration.v1', response: 'Participant', ok: 201, errors: { 409: 'KEY_ALREADY_REGISTERED', 429: 'RATE_LIMITED: too many registrations from this address or in all, or too many waiting for approval' } },
  { id: 'listParticipants', method: 'get', path: '/v1/participants', summary: 'Directory', auth: 'bearer', query: 'participant-query.v1', response: 'ParticipantPage', ok: 200, errors: {} },
  { id: 'getParticipant', method: 'get', path: '/v1/participants/{id}', summary: 'Directory entry', auth: 'bearer', response: 'Participant', ok: 200, errors: { 404: NOT_FOUND } },
  { id: 'approveParticipant', method: 'post', path: '/v1/participants/{id}/approve', summary: 'Operator: approve', auth: 'bearer', body: 'empty-body.v1', response: 'Participant', ok: 200, errors: { 403: 'ROLE_REQUIRED (operator), FORBIDDEN (itself)', 404: NOT_FOUND } },
  { id: 'suspendParticipant', method: 'post', path: '/v1/participants/{id}/suspend', summary: 'Operator: suspend', auth: 'bearer', body: 'empty-body.v1', response: 'Participant', ok: 200, errors: { 403: 'ROLE_REQUIRED (operator), FORBIDDEN (itself)', 404: NOT_FOUND } },
  { id: 'rotateKey', method: 'post', path: '/v1/participants/{id}/keys', summary: 'Rotate own key', auth: 'bearer', body: 'key-rotation.v1', response: 'Participant', ok: 200, errors: { 403: 'FORBIDDEN: not the caller\'s own id', 409: 'KEY_ALREADY_REGISTERED' } },
  { id: 'publishDataset', method: 'post', path: '/v1/datasets', summary: 'Provider: publish a dataset (consumers: insight datasets)', auth: 'bearer', body: 'dataset.v1', response: 'Dataset', ok: 201, errors: { 403: 'ROLE_REQUIRED' } },
  { id: 'listDatasets', method: 'get', path: '/v1/datasets', summary: 'Catalog (filters researchField, kind, provider, q, status; cursor pagination)', auth: 'bearer', query: 'dataset-query.v1', response: 'DatasetPage', ok: 200, errors: {} },
  { id: 'getDataset', method: 'get', path: '/v1/datasets/{id}', summary: 'One dataset', auth: 'bearer', response: 'Dataset', ok: 200, errors: { 404: NOT_FOUND } },
  { id: 'withdrawDataset', method: 'post', path: '/v1/datasets/{id}/withdraw', summary: 'Owning provider: withdraw', auth: 'bearer', body: 'empty-body.v1', response: 'Dataset', ok: 200, errors: { 403: 'NOT_OWNER', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION (already withdrawn)' } },
  { id: 'attestDataset', method: 'post', path: '/v1/datasets/{id}/attestations', summary: "Owning provider (its data node): the file it holds has the published digest and size; the dataset then counts as a contribution", auth: 'bearer', body: 'dataset-attestation.v1', response: 'Attestation', ok: 201, errors: { 403: 'NOT_OWNER', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION (withdrawn)', 422: 'ATTESTATION_MISMATCH' } },
  { id: 'createOffer', method: 'post', path: '/v1/datasets/{id}/offers', summary: 'Owning provider: publish an offer', auth: 'bearer', body: 'offer.v1', response: 'Offer', ok: 201, errors: { 403: 'ROLE_REQUIRED, NOT_OWNER, DATASET_WITHDRAWN', 404: NOT_FOUND, 422: 'UNKNOWN_RULE' } },
  { id: 'listOffers', method: 'get', path: '/v1/datasets/{id}/offers', summary: 'Offers of a dataset', auth: 'bearer', response: 'OfferList', ok: 200, errors: { 404: NOT_FOUND } },
  { id: 'getOffer', method: 'get', path: '/v1/offers/{id}', summary: 'One offer', auth: 'bearer', response: 'Offer', ok: 200, errors: { 404: NOT_FOUND } },
  { id: 'proposeContract', method: 'post', path: '/v1/contracts', summary: 'Consumer: propose; returns the canonical document and its digest', auth: 'bearer', body: 'contract-proposal.v1', response: 'Contract', ok: 201, errors: { 403: 'ROLE_REQUIRED, FORBIDDEN, DATASET_WITHDRAWN, OFFER_NOT_ACTIVE, PURPOSE_NOT_ALLOWED, TERMS_EXCEED_OFFER, PARTICIPANT_SUSPENDED, RECIPROCITY_UNMET', 404: 'NOT_FOUND: the offer' } },
  { id: 'signContract', method: 'post', path: '/v1/contracts/{id}/signatures', summary: 'Consumer, then provider: sign the canonical bytes', auth: 'bearer', body: 'signature.v1', response: 'ContractState', ok: 200, errors: { 403: 'FORBIDDEN, CONTRACT_REVOKED, CONTRACT_EXPIRED, DATASET_WITHDRAWN', 404: NOT_FOUND, 409: 'ALREADY_SIGNED, SIGNATURE_OUT_OF_ORDER, SIGNING_KEY_ROTATED' } },
  { id: 'listContracts', method: 'get', path: '/v1/contracts', summary: "The caller's contracts, oldest first, cursor pagination: role=provider (on its offers; state=consumer_signed is the list to countersign) or consumer (proposed by it); without role every contract the caller is a party of, for the operator and auditors every contract; each with the dataset's title and both parties' names", auth: 'bearer', query: 'contract-query.v1', response: 'ContractPage', ok: 200, errors: {} },
  { id: 'getContract', method: 'get', path: '/v1/contracts/{id}', summary: 'Parties, operator, auditor: document, signatures, state, used, remaining', auth: 'bearer', response: 'Contract', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND } },
  { id: 'revokeContract', method: 'post', path: '/v1/contracts/{id}/revoke', summary: 'Provider or operator: revoke', auth: 'bearer', body: 'revocation.v1', response: 'Contract', ok: 200, errors: { 403: 'ROLE_REQUIRED, FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION' } },
  { id: 'createRule', method: 'post', path: '/v1/reciprocity-rules', summary: 'Operator (space-wide) or provider (for its offers): create a rule', auth: 'bearer', body: 'reciprocity-rule.v1', response: 'ReciprocityRule', ok: 201, errors: { 403: 'ROLE_REQUIRED' } },
  { id: 'listRules', method: 'get', path: '/v1/reciprocity-rules', summary: 'Rules, space-wide and per offer (filters researchField, scope), oldest first, cursor pagination', auth: 'bearer', query: 'rule-query.v1', response: 'RuleList', ok: 200, errors: {} },
  { id: 'getStanding', method: 'get', path: '/v1/reciprocity/standing', summary: 'What the caller shares in a field (or under a contract), whether its next release would be authorized and what one more would need', auth: 'bearer', query: 'standing-query.v1', response: 'Standing', ok: 200, errors: { 403: 'FORBIDDEN: not the contract\'s consumer', 404: 'NOT_FOUND: the contract' } },
  { id: 'createJob', method: 'post', path: '/v1/jobs', summary: 'Consumer: authorize a job and release the dataset (Idempotency-Key honoured)', auth: 'bearer', body: 'job-request.v1', response: 'ConsumerJob', ok: 201, idempotent: true, errors: { 403: 'ROLE_REQUIRED, FORBIDDEN, CONTRACT_NOT_ACTIVE, CONTRACT_EXPIRED, CONTRACT_REVOKED, CONTRACT_EXHAUSTED, PURPOSE_NOT_ALLOWED, RECIPROCITY_UNMET, DATASET_WITHDRAWN, PARTICIPANT_SUSPENDED', 404: 'NOT_FOUND: the contract', 422: 'IDEMPOTENCY_KEY_REUSED', 429: 'RATE_LIMITED: too many simultaneous releases under reciprocity rules; retry with the same Idempotency-Key' } },
  { id: 'getJob', method: 'get', path: '/v1/jobs/{id}', summary: "Job status: the job's parties, the reviewers a compute contract's policy names, operator, auditors", auth: 'bearer', response: 'Job', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND } },
  { id: 'completeJob', method: 'post', path: '/v1/jobs/{id}/complete', summary: 'Consumer: report completion with the result digest', auth: 'bearer', body: 'job-completion.v1', response: 'ConsumerDownloadJob', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION' } },
  { id: 'failJob', method: 'post', path: '/v1/jobs/{id}/fail', summary: "Consumer: a download job could not run -> failed (ledger job.failed with releaseConfirmed); the invocation is NOT given back (it is the release), and the provider's gateway refuses the token from then on", auth: 'bearer', body: 'job-failure.v1', response: 'FailedJob', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION' } },
  { id: 'getJobReceipt', method: 'get', path: '/v1/jobs/{id}/receipt', summary: "The job's parties, operator, auditors: c2sp.org/tlog-proof@v1 of the job's release (entry bytes in extra, cosigned checkpoint)", auth: 'bearer', response: 'Text', ok: 200, produces: 'text/plain', errors: { 403: 'FORBIDDEN', 404: 'NOT_FOUND: no release of this job is recorded', 409: 'RECEIPT_PENDING: not yet under a served checkpoint; retry in a second' } },
  { id: 'getCheckpoint', method: 'get', path: '/v1/ledger/checkpoint', summary: 'Any active participant: latest signed checkpoint (C2SP signed note, with witness cosignatures)', auth: 'bearer', response: 'Text', ok: 200, produces: 'text/plain', errors: {} },
  { id: 'getLogKey', method: 'get', path: '/v1/ledger/key', summary: 'Any active participant: checkpoint verifier key', auth: 'bearer', response: 'Text', ok: 200, produces: 'text/plain', errors: {} },
  { id: 'listLedgerEntries', method: 'get', path: '/v1/ledger/entries', summary: 'Auditor, operator: entries with leaf and chain hashes', auth: 'bearer', query: 'ledger-entries-query.v1', response: 'LedgerEntries', ok: 200, errors: { 403: 'ROLE_REQUIRED (auditor, operator)' } },
  { id: 'listMyLedgerEntries', method: 'get', path: '/v1/ledger/mine', summary: "Any active participant: the entries naming the caller (actor or subject), each with its inclusion proof for the returned checkpoint", auth: 'bearer', query: 'ledger-mine-query.v1', response: 'LedgerMine', ok: 200, errors: {} },
  { id: 'getInclusionProof', method: 'get', path: '/v1/ledger/proofs/inclusion', summary: 'Any active participant: RFC 9162 inclusion proof', auth: 'bearer', query: 'inclusion-proof-query.v1', response: 'InclusionProof', ok: 200, errors: {} },
  { id: 'getConsistencyProof', method: 'get', path: '/v1/ledger/proofs/consistency', summary: 'Any active participant: RFC 9162 consistency proof', auth: 'bearer', query: 'consistency-proof-query.v1', response: 'ConsistencyProof', ok: 200, errors: {} },
  { id: 'createStatement', method: 'post', path: '/v1/statements', summary: 'The party itself or the operator: issue a signed statement (tds.statement.v1) of a period from the ledger', auth: 'bearer', body: 'statement-request.v1', response: 'statement.v1', ok: 201, errors: { 403: 'FORBIDDEN', 404: 'NOT_FOUND: the party' } },
  { id: 'getStatement', method: 'get', path: '/v1/statements/{id}', summary: 'The party or the operator: an issued statement and its ledger-key signature', auth: 'bearer', response: 'statement.v1', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND } },
  { id: 'getSettlement', method: 'get', path: '/v1/settlements', summary: 'Operator: per currency, what each consumer owes and each provider is owed for a period, and whether the sides balance', auth: 'bearer', query: 'settlement-query.v1', response: 'Settlement', ok: 200, errors: { 403: 'ROLE_REQUIRED (operator)' } },
  { id: 'getReleaseStatus', method: 'get', path: '/v1/jobs/{id}/release-status', response: 'ReleaseStatus', summary: "Job's provider (its gateway) or operator: may the release still be downloaded (revoked, withdrawn, suspended stop it)", auth: 'bearer', ok: 200, errors: { 403: 'FORBIDDEN', 404: 'NOT_FOUND (also: a compute job has no download release)' } },
  { id: 'listJobs', method: 'get', path: '/v1/jobs', summary: "The caller's jobs: role=consumer (submitted), provider (on its data: the data node's queue, e.g. state=queued), reviewer (held results awaiting its review: state=held); state, contractId filters; oldest first, cursor pagination", auth: 'bearer', query: 'job-query.v1', response: 'JobPage', ok: 200, errors: { 403: 'ROLE_REQUIRED (role=reviewer)' } },
  { id: 'claimJob', method: 'post', path: '/v1/jobs/{id}/claim', summary: "The job's provider (its data node): queued -> running with a lease (TDS_JOB_LEASE_SECONDS); a running job whose lease ran out may be claimed again; answers the analysis, the signed contract document and the dataset", auth: 'bearer', body: 'empty-body.v1', response: 'ClaimedJob', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION (not queued, lease not run out, a download job, or failed now: revoked or withdrawn)' } },
  { id: 'submitJobResult', method: 'post', path: '/v1/jobs/{id}/result', summary: "The job's provider: the signed tds.result.v1 (signature and bindings verified, released cells re-checked against the contract's outputPolicy; body up to 1 MiB)", auth: 'bearer', body: 'result-submission.v1', response: 'AcceptedResult', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION', 422: 'RESULT_MISMATCH, OUTPUT_POLICY_VIOLATION' } },
  { id: 'getJobResult', method: 'get', path: '/v1/jobs/{id}/result', summary: 'The signed result: consumer once completed; provider and named reviewers once held or after; operator and auditors digest and status only', auth: 'bearer', response: 'JobResult', ok: 200, errors: { 403: 'FORBIDDEN', 404: NOT_FOUND, 409: 'RESULT_NOT_AVAILABLE: no result yet, not released to the caller yet, or a download job' } },
  { id: 'reviewJobResult', method: 'post', path: '/v1/jobs/{id}/reviews', summary: 'A reviewer named in the outputPolicy: signed vote (approve|reject) over {type: "tds.review.v1", jobId, resultDigest, decision}', auth: 'bearer', body: 'review.v1', response: 'ReviewedJob', ok: 201, errors: { 403: 'ROLE_REQUIRED, FORBIDDEN', 404: NOT_FOUND, 409: 'INVALID_STATE_TRANSITION, ALREADY_REVIEWED' } },
];

/** Component name of a contracts/ schema $id (https://tds.example/contracts/offer.v1.schema.json -> offer.v1). */
function componentName(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1).replace('.schema.json', '');
}

/**
 * A contracts/ schema as a component: without $id and $schema (the document
 * declares the dialect), its $refs to other contracts (relative like
 * `price.v1.schema.json`, or absolute) and to its own $defs rewritten to
 * #/components/schemas/..., so nothing points outside the document.
 */
export function asComponent(name: string, schema: unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k === '$id' || k === '$schema') continue;
      if (k === '$ref' && typeof val === 'string') {
        const [target, fragment = ''] = val.split('#');
        const file = target!.startsWith(SCHEMA_BASE) ? target!.slice(SCHEMA_BASE.length) : target!;
        const component = file === '' ? name : componentName(file);
        out.$ref = `#/components/schemas/${component}${fragment}`;
        continue;
      }
      out[k] = walk(val);
    }
    return out;
  };
  return walk(schema);
}

const problem = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/problem.v1' } } },
});
const RETRY_AFTER = { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } };

/** Answers every operation may meet at the edge, by component name (components/responses). */
const EDGE_RESPONSES = {
  Problem: problem('what the HTTP server itself answers before any route, the connection then closed: 408 REQUEST_TIMEOUT, 431 HEADERS_TOO_LARGE'),
  BadRequest: problem('VALIDATION_FAILED (with errors: [{pointer, message}]), MALFORMED_JSON or INVALID_SIGNATURE; a path or query that is not valid percent-encoded UTF-8 is refused on every route; MALFORMED_REQUEST (not HTTP/1.1) before any route'),
  Unauthorized: problem('the request token is missing or refused (AUTH_REQUIRED, TOKEN_*, UNKNOWN_KEY, KEY_ROTATED, PARTICIPANT_NOT_ACTIVE)'),
  PayloadTooLarge: problem('PAYLOAD_TOO_LARGE'),
  UnsupportedMediaType: problem('UNSUPPORTED_MEDIA_TYPE: bodies must be application/json'),
  Internal: problem('INTERNAL: an unexpected error; a generic detail, the cause is logged by the service, never sent'),
  Unavailable: problem('DATABASE_UNAVAILABLE: retry after Retry-After seconds', RETRY_AFTER),
};
const edge = (name: keyof typeof EDGE_RESPONSES) => ({ $ref: `#/components/responses/${name}` });

/**
 * The error answers an operation can give, each a problem+json document: 400 on every route (the
 * input guard checks every path and query), 401 and 503 wherever a request token is checked (against
 * the database), 413 and 415 wherever a body is read, 500 anywhere, and the operation's own `errors`.
 * `default` is what the HTTP server answers before any route; an answer of a status not declared here
 * is a failure of the API tests (test/helpers/openapi-check.ts).
 */
function errorResponses(op: Operation): Record<string, unknown> {
  const own = op.errors as Record<string, string>;
  const errors: Record<string, unknown> = { '400': edge('BadRequest') };
  if (op.auth !== 'none') errors['401'] = edge('Unauthorized');
  for (const status of ['401', '403', '404', '409']) if (own[status]) errors[status] = problem(own[status]);
  if (op.body) {
    errors['413'] = edge('PayloadTooLarge');
    errors['415'] = edge('UnsupportedMediaType');
  }
  if (own['422']) errors['422'] = problem(own['422']);
  if (own['429']) errors['429'] = problem(own['429'], RETRY_AFTER);
  errors['500'] = edge('Internal');
  if (op.auth !== 'none') errors['503'] = edge('Unavailable');
  // /readyz answers its own Health document when the database is away.
  if (own['503']) errors['503'] = { description: own['503'], content: successContent(op) };
  errors.default = edge('Problem');
  return errors;
}

function successContent(op: Operation): Record<string, unknown> {
  const schema = { $ref: `#/components/schemas/${op.response}` };
  return { [op.produces ?? 'application/json']: { schema } };
}

/** Build the OpenAPI 3.1 document; `serverUrl` is where clients reach the API (default: relative to the document). */
export function buildOpenApi(schemas: SchemaRegistry, serverUrl = '/'): object {
  const components: Record<string, unknown> = {};
  // Query schemas become the operations' parameters (one per property), the rest components.
  const isQuery = (name: string) => /-query\.v\d+$/.test(name) || OPERATIONS.some((o) => o.query === name);
  for (const [id, schema] of schemas.schemas) if (!isQuery(componentName(id))) components[componentName(id)] = asComponent(componentName(id), schema);
  // Answer schemas only when an operation uses them (directly or through another), so none is left unused.
  const used = new Set(OPERATIONS.map((o) => o.response));
  const text = (v: unknown) => JSON.stringify(v);
  for (let grew = true; grew; ) {
    grew = false;
    for (const name of Object.keys(RESPONSE_SCHEMAS)) {
      if (used.has(name)) continue;
      if ([...used].some((u) => RESPONSE_SCHEMAS[u] && text(RESPONSE_SCHEMAS[u]).includes(`"#/components/schemas/${name}"`))) {
        used.add(name);
        grew = true;
      }
    }
  }
  for (const [name, schema] of Object.entries(RESPONSE_SCHEMAS)) if (used.has(name)) components[name] = schema;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params: Array<Record<string, unknown>> = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, description: 'a UUID', schema: { type: 'string', format: 'uuid' } }));
    if (op.query) {
      const q = schemas.schemas.get(`${SCHEMA_BASE}${op.query}.schema.json`) as { properties?: Record<string, { description?: string }>; required?: string[] } | undefined;
      for (const [name, schema] of Object.entries(q?.properties ?? {})) {
        params.push({ name, in: 'query', required: (q?.required ?? []).includes(name), ...(schema.description ? { description: schema.description } : {}), schema: asComponent(op.query, schema) });
      }
    }
    if (op.idempotent) params.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'a retry with the same key and body returns the same job and uses no further invocation; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED', schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' } });
    const tag = op.path.startsWith('/v1/') ? op.path.split('/')[2]! : 'service';
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: op.id,
      summary: op.summary,
      tags: [tag],
      ...(op.auth === 'none' ? { security: [] } : { security: [{ bearer: [] }] }),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${op.body}` } } } } } : {}),
      responses: {
        [String(op.ok)]: { description: 'success', ...(op.idempotent ? { headers: { 'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' } } } : {}), content: successContent(op) },
        ...errorResponses(op),
      },
    };
  }
  const tags = [...new Set(OPERATIONS.map((o) => (o.path.startsWith('/v1/') ? o.path.split('/')[2]! : 'service')))].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? `${name} operations` }));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Trusted Data Space (tds)',
      version: '1.0.0',
      description: 'Contracts, reciprocity and a verifiable audit ledger for sensitive datasets. Every /v1 call carries a fresh EdDSA request token (htm/htu bound, single-use jti) signed by the participant\'s own key.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl, description: 'this service' }],
    tags,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA, htm/htu bound, single-use jti)', description: 'A request token signed by the participant\'s key; registration signs with the key being registered (iss = its thumbprint).' } },
      responses: EDGE_RESPONSES,
      headers: {
        RetryAfter: { description: 'seconds to wait before retrying', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } },
        IdempotentReplayed: { description: '"true" when the answer is the job of an earlier request with the same Idempotency-Key (nothing more was used); absent otherwise', required: false, schema: { const: 'true' } },
      },
      schemas: components,
    },
    security: [{ bearer: [] }],
    paths,
  };
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  service: 'Health, metrics, keys and this document (no authentication)',
  participants: 'Registration, approval and keys of participants',
  datasets: 'The catalog: datasets and their offers',
  offers: 'Offers on datasets',
  contracts: 'Contracts: propose, sign, read, list, revoke',
  'reciprocity-rules': 'Reciprocity rules',
  reciprocity: 'Reciprocity standing',
  jobs: 'Jobs: releases of data under a contract',
  ledger: 'The audit ledger: checkpoints, entries, proofs',
  statements: 'Signed statements of account',
  settlements: 'Settlement view for the operator',
};
