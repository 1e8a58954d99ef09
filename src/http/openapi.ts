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
  { method: 'get', path: '/.well-known/jwks.json', summary: "The service's public keys (release tokens)", auth: 'none', ok: 200 },
  { method: 'get', path: '/openapi.json', summary: 'This document', auth: 'none', ok: 200 },
  { method: 'post', path: '/v1/participants', summary: 'Register (token signed by the key being registered, iss = its thumbprint)', auth: 'self-signed', body: 'participant-registration.v1', ok: 201 },
  { method: 'get', path: '/v1/participants', summary: 'Directory', auth: 'bearer', query: 'participant-query.v1', ok: 200 },
  { method: 'get', path: '/v1/participants/{id}', summary: 'Directory entry', auth: 'bearer', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/approve', summary: 'Operator: approve', auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/suspend', summary: 'Operator: suspend', auth: 'bearer', body: 'empty-body.v1', ok: 200 },
  { method: 'post', path: '/v1/participants/{id}/keys', summary: 'Rotate own key', auth: 'bearer', body: 'key-rotation.v1', ok: 200 },
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
