/**
 * Property-based fuzzing of every body-taking endpoint: arbitrary JSON values
 * and mutations of valid bodies that the endpoint's schema refuses must get a
 * 4xx problem, never a 5xx, and must write nothing. The hostile part feeds
 * every body field, query parameter and path parameter with NUL, lone
 * surrogates, bidirectional controls, deep nesting and huge numbers: never a
 * 5xx, and a refused request writes nothing.
 */
import fc from 'fast-check';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, datasetBody, publishDataset } from '../helpers/scenario.js';
import { loadSchemas } from '../../src/http/validation.js';

let ctx: TestContext;
let provider: Actor;
let consumer: Actor;
let datasetId: string;
let contractId: string;
const schemas = loadSchemas();

beforeAll(async () => {
  ctx = await createTestContext();
  provider = await makeParticipant(ctx, ['provider']);
  consumer = await makeParticipant(ctx, ['consumer']);
  datasetId = await publishDataset(ctx, provider);
  contractId = await activeContract(ctx, provider, consumer, { datasetId });
});
afterAll(() => ctx.close());

function isValid(schema: string, body: unknown): boolean {
  try {
    schemas.check(schema, body);
    return true;
  } catch {
    return false;
  }
}

/** Valid bodies per endpoint, to mutate one field at a time. */
const endpoints = () => [
  { schema: 'dataset.v1', actor: provider, path: '/v1/datasets', valid: datasetBody() },
  { schema: 'offer.v1', actor: provider, path: `/v1/datasets/${datasetId}/offers`, valid: { purposes: ['DUO:0000006'], maxInvocations: 3, access: 'download' } },
  { schema: 'contract-proposal.v1', actor: consumer, path: '/v1/contracts', valid: { offerId: '00000000-0000-4000-8000-000000000000', purposes: ['DUO:0000006'], maxInvocations: 1 } },
  { schema: 'signature.v1', actor: consumer, path: `/v1/contracts/${contractId}/signatures`, valid: { kid: consumer.kid, signature: 'A'.repeat(86) } },
  { schema: 'revocation.v1', actor: provider, path: `/v1/contracts/${contractId}/revoke`, valid: { reason: 'r' } },
  { schema: 'job-request.v1', actor: consumer, path: '/v1/jobs', valid: { contractId, purpose: 'DUO:0000006' } },
  { schema: 'reciprocity-rule.v1', actor: ctx.operator as Actor, path: '/v1/reciprocity-rules', valid: { kind: 'share-all', researchField: 'f', datasetKind: 'raw' } },
  { schema: 'key-rotation.v1', actor: consumer, path: `/v1/participants/${consumer.id}/keys`, valid: { publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) } } },
  { schema: 'empty-body.v1', actor: ctx.operator as Actor, path: `/v1/participants/${consumer.id}/suspend`, valid: {} },
];

const jsonValue = fc.jsonValue({ maxDepth: 3 });

describe('fuzzed invalid bodies', () => {
  it('never produce a 5xx or a write', async () => {
    for (const ep of endpoints()) {
      const keys = Object.keys(ep.valid);
      if (keys.length === 0) keys.push('extra');
      const mutated = fc.oneof(
        jsonValue,
        // Replace or add one field of a valid body with an arbitrary value.
        fc.tuple(fc.constantFrom(...keys, 'extra'), jsonValue).map(([k, v]) => ({ ...ep.valid, [k]: v })),
        // Drop one field.
        fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(ep.valid).filter(([kk]) => kk !== k))),
        // Huge strings.
        fc.constantFrom(...keys).map((k) => ({ ...ep.valid, [k]: 'x'.repeat(5000) })),
      );
      await fc.assert(
        fc.asyncProperty(mutated.filter((b) => !isValid(ep.schema, b)), async (body) => {
          const before = await snapshotCounts(ctx.ds);
          // Sent as raw JSON text so scalars, arrays and null reach the server as they are.
          const res = await signed(ctx.app, ep.actor, 'post', ep.path, JSON.stringify(body), {}, { 'Content-Type': 'application/json' });
          const after = await snapshotCounts(ctx.ds);
          return res.status >= 400 && res.status < 500 && typeof res.body.code === 'string' && JSON.stringify(after) === JSON.stringify(before);
        }),
        { numRuns: 40 },
      );
    }
  });
});

// ---- hostile characters, depths and numbers in every body field, query parameter and path parameter ----

const HOSTILE_CHARS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u202e', '\u2066', '\u200f', '\u061c', '\ufeff', '\u0007', '\u{10ffff}'];
const hostileString = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...HOSTILE_CHARS), fc.string({ maxLength: 8 })).map(([a, h, b]) => `${a}${h}${b}`);
const deep = fc.integer({ min: 33, max: 3000 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown);
const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 5e-324, 2 ** 31, -(2 ** 31) - 1);
const hostileValue = fc.oneof(hostileString, deep, hugeNumber, fc.array(hostileString, { minLength: 1, maxLength: 3 }), fc.dictionary(hostileString, hostileString, { minKeys: 1, maxKeys: 2 }));

// Percent-encode any UTF-16 string, lone surrogates included (as the 3-byte sequences a hostile client sends).
function encodeHostile(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const isHigh = c >= 0xd800 && c <= 0xdbff;
    const pairs = isHigh && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (pairs) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(s[i]!);
    }
  }
  return out;
}

const queryText = fc.oneof(hostileString, fc.constantFrom('1e400', '99999999999999999999999', '-1', '%FF', '%C0%80', '%ED%A0%80'));

describe('hostile input everywhere', () => {
  it('body fields (top level and nested) never produce a 5xx, and a refusal writes nothing', async () => {
    for (const ep of endpoints()) {
      const keys = [...Object.keys(ep.valid), 'extra'];
      const body = fc.oneof(
        fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...ep.valid, [k]: v })),
        // Nested: inside the first object-valued field (distribution, publicKeyJwk), or a wrapping object.
        fc.tuple(hostileString, hostileValue).map(([k, v]) => {
          const nestedKey = Object.keys(ep.valid).find((kk) => typeof (ep.valid as Record<string, unknown>)[kk] === 'object');
          return nestedKey ? { ...ep.valid, [nestedKey]: { ...((ep.valid as Record<string, object>)[nestedKey]), [k]: v } } : { ...ep.valid, [k]: v };
        }),
        deep,
      );
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          const before = await snapshotCounts(ctx.ds);
          const res = await signed(ctx.app, ep.actor, 'post', ep.path, JSON.stringify(b), {}, { 'Content-Type': 'application/json' });
          const after = await snapshotCounts(ctx.ds);
          if (res.status >= 500) return false;
          return res.status < 400 || JSON.stringify(after) === JSON.stringify(before);
        }),
        { numRuns: 25 },
      );
    }
  });

  it('query parameters of every listing never produce a 5xx', async () => {
    const queries: Array<[string, string[]]> = [
      ['/v1/datasets', ['researchField', 'kind', 'provider', 'q', 'status', 'limit', 'cursor']],
      ['/v1/participants', ['role', 'status', 'limit', 'cursor']],
      ['/v1/reciprocity-rules', ['researchField', 'scope']],
      ['/v1/reciprocity/standing', ['field', 'kind']],
      ['/v1/ledger/entries', ['start', 'limit']],
      ['/v1/ledger/mine', ['start', 'limit']],
      ['/v1/ledger/proofs/inclusion', ['index', 'treeSize']],
      ['/v1/ledger/proofs/consistency', ['from', 'to']],
    ];
    for (const [path, names] of queries) {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...names, 'x\u0000'), queryText, async (name, value) => {
          const v = value.startsWith('%') ? value : encodeHostile(value);
          const url = `${path}?${encodeHostile(name)}=${v}`;
          const res = await signed(ctx.app, ctx.operator, 'get', url);
          return res.status < 500 && (res.status < 400 || typeof res.body.code === 'string');
        }),
        { numRuns: 20 },
      );
    }
  });

  it('path parameters of every route never produce a 5xx, and a refusal writes nothing', async () => {
    const routes: Array<['get' | 'post', (id: string) => string]> = [
      ['get', (id) => `/v1/datasets/${id}`], ['get', (id) => `/v1/datasets/${id}/offers`], ['post', (id) => `/v1/datasets/${id}/offers`],
      ['post', (id) => `/v1/datasets/${id}/withdraw`], ['get', (id) => `/v1/offers/${id}`], ['get', (id) => `/v1/contracts/${id}`],
      ['post', (id) => `/v1/contracts/${id}/signatures`], ['post', (id) => `/v1/contracts/${id}/revoke`], ['get', (id) => `/v1/jobs/${id}`],
      ['post', (id) => `/v1/jobs/${id}/complete`], ['get', (id) => `/v1/participants/${id}`], ['post', (id) => `/v1/participants/${id}/approve`],
      ['post', (id) => `/v1/participants/${id}/suspend`], ['post', (id) => `/v1/participants/${id}/keys`],
    ];
    const id = fc.oneof(hostileString.map(encodeHostile), fc.constantFrom('%FF', '%ED%A0%80', '..', '%2e%2e', '00000000-0000-4000-8000-000000000000%00', '1e400'));
    for (const [method, path] of routes) {
      await fc.assert(
        fc.asyncProperty(id, async (raw) => {
          const before = await snapshotCounts(ctx.ds);
          const res = await signed(ctx.app, ctx.operator, method, path(raw), method === 'post' ? {} : undefined);
          const after = await snapshotCounts(ctx.ds);
          return res.status >= 400 && res.status < 500 && JSON.stringify(after) === JSON.stringify(before);
        }),
        { numRuns: 15 },
      );
    }
  });
});
