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
import { OPERATIONS } from '../../src/http/openapi.js';

let ctx: TestContext;
let doc: { paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; responses: Record<string, unknown> }>>; servers?: unknown[]; components: { schemas: Record<string, unknown> } };
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
        if (p.startsWith('/v1/')) {
          expect({ op: `${m} ${p}`, has401: '401' in op.responses, has403: '403' in op.responses }).toEqual({ op: `${m} ${p}`, has401: true, has403: true });
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

  it('catches an answer that does not match its schema', () => {
    expect(() => checkAnswer('get', '/healthz', 200, 'application/json', { up: true })).toThrow(/does not match #\/components\/schemas\/Health/);
    expect(() => checkAnswer('get', '/v1/contracts/0b0d1a8e-0000-4000-8000-000000000000', 404, 'application/json', {})).toThrow(/answered application\/json/);
  });
});
