/**
 * Property-based fuzzing of every body-taking endpoint: arbitrary JSON values
 * and mutations of valid bodies that the endpoint's schema refuses must get a
 * 4xx problem, never a 5xx, and must write nothing.
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
  { schema: 'offer.v1', actor: provider, path: `/v1/datasets/${datasetId}/offers`, valid: { purposes: ['DUO:0000006'], maxInvocations: 3 } },
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
