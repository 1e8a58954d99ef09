/**
 * The served OpenAPI document is usable by tools: an independent validator
 * (Redocly CLI, recommended rules) finds no error in it, it is self-contained
 * (every $ref resolves inside the document), every operation has an
 * operationId, security and problem answers. The answers of the routes that
 * need no authentication are checked here; every signed answer of every API
 * test is checked by test/helpers/actors.ts against the same document.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { checkAnswer } from '../helpers/openapi-check.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { OPERATIONS } from '../../src/http/openapi.js';

let ctx: TestContext;
type Answer = { $ref?: string; headers?: Record<string, unknown> };
let doc: {
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; responses: Record<string, Answer> }>>;
  servers?: unknown[];
  components: { schemas: Record<string, unknown>; responses: Record<string, Answer> };
};
let dir: string;

beforeAll(async () => {
  ctx = await createTestContext();
  doc = (await request(ctx.app).get('/openapi.json')).body;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-openapi-'));
});
afterAll(async () => {
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function refsOf(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => refsOf(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refsOf(x, out);
    }
  }
  return out;
}

function resolvePointer(root: unknown, ref: string): unknown {
  return ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

describe('GET /openapi.json', () => {
  it('passes Redocly CLI lint (recommended rules) with no error', async () => {
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const redocly = path.join(process.cwd(), 'node_modules', '.bin', 'redocly');
    const run = await promisify(execFile)(redocly, ['lint', file, '--extends', 'recommended', '--format', 'json'], { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }).catch((e: { stdout?: string; code?: number }) => ({ stdout: e.stdout ?? '', code: e.code }));
    const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }> };
    const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
    // The only warnings allowed: health, metrics, keys and this document have no 4xx answer to declare.
    const warnings = report.problems.filter((p) => p.severity !== 'error');
    // A contracts/ schema whose route is still to come may be unused for a while; the answer schemas never are.
    const allowed = (w: (typeof warnings)[number]) =>
      (w.ruleId === 'operation-4xx-response' && /~1(healthz|readyz|metrics|openapi\.json|\.well-known~1jwks\.json|console|console~1config\.json)\//.test(w.location[0]!.pointer)) ||
      (w.ruleId === 'no-unused-components' && /^#\/components\/schemas\/[a-z-]+\.v\d+$/.test(w.location[0]!.pointer));
    expect(warnings.filter((w) => !allowed(w))).toEqual([]);
  });

  it('is self-contained: every $ref points into the document and resolves', () => {
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((r) => !r.startsWith('#/'))).toEqual([]);
    expect(refs.filter((r) => resolvePointer(doc, r) === undefined)).toEqual([]);
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('gives every operation a unique operationId, security and problem answers', () => {
    const ids: string[] = [];
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/);
        ids.push(op.operationId!);
        expect(Array.isArray(op.security)).toBe(true);
        expect(op.responses.default).toBeDefined();
        const answer = (status: string) => (op.responses[status]?.$ref ? doc.components.responses[op.responses[status]!.$ref!.split('/').pop()!] : op.responses[status]);
        // Every route: the input guard's 400 and the unexpected 500; every /v1 route checks a token against the database.
        const statuses = ['400', '500', ...(p.startsWith('/v1/') ? ['401', '503'] : [])];
        expect({ op: `${m} ${p}`, missing: statuses.filter((st) => !(st in op.responses)) }).toEqual({ op: `${m} ${p}`, missing: [] });
        for (const st of ['429', '503']) {
          if (st in op.responses && p.startsWith('/v1/')) expect({ op: `${m} ${p} ${st}`, retryAfter: Boolean(answer(st)?.headers?.['Retry-After']) }).toEqual({ op: `${m} ${p} ${st}`, retryAfter: true });
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(OPERATIONS.length);
  });

  it.each([['/healthz'], ['/readyz'], ['/.well-known/jwks.json'], ['/openapi.json'], ['/metrics'], ['/console/config.json']])('answers %s as documented', async (url) => {
    const res = await request(ctx.app).get(url);
    expect(res.status).toBe(200);
    expect(checkAnswer('get', url, res.status, res.headers['content-type'], /json/.test(res.headers['content-type'] ?? '') ? res.body : res.text)).toBe(url);
  });

  it('refuses a status the operation does not declare: default is no fallback', () => {
    const problem = (status: number, code: string) => ({ type: 'https://tds.example/problems/x', title: 'x', status, detail: 'x', code });
    expect(() => checkAnswer('get', '/v1/ledger/checkpoint', 409, 'application/problem+json', problem(409, 'INVALID_STATE_TRANSITION'))).toThrow(/answered 409 INVALID_STATE_TRANSITION, which the OpenAPI document does not declare for this operation/);
    expect(() => checkAnswer('get', '/healthz', 503, 'application/problem+json', problem(503, 'DATABASE_UNAVAILABLE'))).toThrow(/does not declare/);
    expect(() => checkAnswer('post', '/v1/participants/0b0d1a8e-0000-4000-8000-000000000000/approve', 422, 'application/problem+json', problem(422, 'UNKNOWN_RULE'))).toThrow(/does not declare/);
    // The statuses the audit found answered but undeclared are declared now.
    const job = '/v1/jobs/0b0d1a8e-0000-4000-8000-000000000000';
    expect(checkAnswer('get', `${job}/result`, 409, 'application/problem+json', problem(409, 'RESULT_NOT_AVAILABLE'))).toBe('/v1/jobs/{id}/result');
    expect(checkAnswer('get', `${job}/receipt`, 409, 'application/problem+json', problem(409, 'RECEIPT_PENDING'))).toBe('/v1/jobs/{id}/receipt');
  });

  it('checks the headers an answer declares when given them (Retry-After, Idempotent-Replayed)', () => {
    const busy = { type: 'https://tds.example/problems/database-unavailable', title: 'Service Unavailable', status: 503, detail: 'retry', code: 'DATABASE_UNAVAILABLE' };
    expect(checkAnswer('get', '/v1/ledger/key', 503, 'application/problem+json', busy, { 'retry-after': '2' })).toBe('/v1/ledger/key');
    expect(() => checkAnswer('get', '/v1/ledger/key', 503, 'application/problem+json', busy, {})).toThrow(/has no Retry-After header/);
    expect(() => checkAnswer('get', '/v1/ledger/key', 503, 'application/problem+json', busy, { 'retry-after': 'soon' })).toThrow(/header Retry-After/);
  });

  it('catches an answer that does not match its schema', () => {
    expect(() => checkAnswer('get', '/healthz', 200, 'application/json', { up: true })).toThrow(/does not match #\/components\/schemas\/Health/);
    expect(() => checkAnswer('get', '/v1/contracts/0b0d1a8e-0000-4000-8000-000000000000', 404, 'application/json', {})).toThrow(/answered application\/json/);
  });
});

describe('answers of the API against the document', () => {
  let provider: Actor;
  let consumer: Actor;
  let contractId: string;
  beforeAll(async () => {
    provider = await makeParticipant(ctx, ['provider']);
    consumer = await makeParticipant(ctx, ['consumer']);
    contractId = await activeContract(ctx, provider, consumer);
  });

  it('refuses a Contract without a field the document requires (invocationsRemaining)', async () => {
    const url = `/v1/contracts/${contractId}`;
    const res = await signed(ctx.app, consumer, 'get', url);
    expect(res.status).toBe(200);
    expect(checkAnswer('get', url, 200, res.headers['content-type'], res.body)).toBe('/v1/contracts/{id}');
    const { invocationsRemaining: _dropped, ...without } = res.body as Record<string, unknown>;
    expect(() => checkAnswer('get', url, 200, res.headers['content-type'], without)).toThrow(/does not match #\/components\/schemas\/Contract: .*invocationsRemaining/);
    // The field the server sends is revokeReason; a state outside the contract state machine is refused.
    expect(res.body).toHaveProperty('revokeReason', null);
    expect(() => checkAnswer('get', url, 200, res.headers['content-type'], { ...res.body, state: 'signed' })).toThrow(/Contract/);
  });

  it('refuses a release without its token in the answer to the consumer, and declares Idempotent-Replayed', async () => {
    const body = { contractId, purpose: 'DUO:0000006' };
    const first = await signed(ctx.app, consumer, 'post', '/v1/jobs', body, {}, { 'Idempotency-Key': 'openapi-replay-1' });
    expect(first.status).toBe(201);
    const again = await signed(ctx.app, consumer, 'post', '/v1/jobs', body, {}, { 'Idempotency-Key': 'openapi-replay-1' });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(checkAnswer('post', '/v1/jobs', 201, again.headers['content-type'], again.body, again.headers)).toBe('/v1/jobs');
    expect(() => checkAnswer('post', '/v1/jobs', 201, again.headers['content-type'], again.body, { ...again.headers, 'idempotent-replayed': 'yes' })).toThrow(/header Idempotent-Replayed/);
    const { token: _token, ...release } = first.body.release as Record<string, unknown>;
    expect(() => checkAnswer('post', '/v1/jobs', 201, first.headers['content-type'], { ...first.body, release })).toThrow(/does not match #\/components\/schemas\/ConsumerJob/);
    // The provider sees the job without the token: that answer is a Job, whose release needs none.
    const seen = await signed(ctx.app, provider, 'get', `/v1/jobs/${first.body.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.release.token).toBeUndefined();
    // A download job has no result at the service: 409 RESULT_NOT_AVAILABLE, declared.
    const result = await signed(ctx.app, consumer, 'get', `/v1/jobs/${first.body.id}/result`);
    expect(result.status).toBe(409);
    expect(result.body.code).toBe('RESULT_NOT_AVAILABLE');
  });

  it('refuses ledger entries without their hashes', async () => {
    await ctx.services.ledger.flush();
    const res = await signed(ctx.app, ctx.operator, 'get', '/v1/ledger/entries?limit=2');
    expect(res.status).toBe(200);
    const [entry] = res.body.entries as Array<Record<string, unknown>>;
    const { chainHash: _chainHash, ...unchained } = entry!;
    expect(() => checkAnswer('get', '/v1/ledger/entries', 200, res.headers['content-type'], { ...res.body, entries: [unchained] })).toThrow(/chainHash/);
    const mine = await signed(ctx.app, consumer, 'get', '/v1/ledger/mine');
    expect(mine.status).toBe(200);
    const [own] = mine.body.entries as Array<Record<string, unknown>>;
    const { leafHash: _leafHash, ...unleafed } = own!;
    expect(() => checkAnswer('get', '/v1/ledger/mine', 200, mine.headers['content-type'], { ...mine.body, entries: [unleafed] })).toThrow(/leafHash/);
  });

  it('refuses a consistency proof from the empty tree in the query, as the service did (400, pointer /from)', async () => {
    const res = await signed(ctx.app, consumer, 'get', '/v1/ledger/proofs/consistency?from=0');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ pointer: '/from', message: 'must be >= 1' }] });
  });
});
