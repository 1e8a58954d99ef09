/**
 * Path ids are checked at the edge (src/http/params.ts): an id that is not a
 * UUID names no object, so every route answers 404 NOT_FOUND for it and
 * writes nothing, whatever the service behind it would have done with it.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';

let ctx: TestContext;
let member: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  member = await makeParticipant(ctx, ['provider', 'consumer']);
});
afterAll(() => ctx.close());

const BAD = ['not-a-uuid', '123', 'urn:uuid:9b2c7d1e-7a55-4a3e-9a61-2f1b8c0d4e5f', '9b2c7d1e-7a55-4a3e-9a61-2f1b8c0d4e5'];

describe('malformed path ids', () => {
  it.each(BAD)('are NOT_FOUND on every route that takes one (%s)', async (bad) => {
    const id = encodeURIComponent(bad);
    const before = await snapshotCounts(ctx.ds);
    const asOperator: Array<['get' | 'post', string, unknown?]> = [
      ['get', `/v1/participants/${id}`],
      ['post', `/v1/participants/${id}/approve`],
      ['post', `/v1/participants/${id}/suspend`],
      ['get', `/v1/datasets/${id}`],
      ['get', `/v1/datasets/${id}/offers`],
      ['get', `/v1/offers/${id}`],
      ['get', `/v1/contracts/${id}`],
      ['post', `/v1/contracts/${id}/revoke`, { reason: 'test' }],
      ['get', `/v1/jobs/${id}`],
    ];
    const asMember: Array<['get' | 'post', string, unknown?]> = [
      ['post', `/v1/datasets/${id}/withdraw`],
      ['post', `/v1/datasets/${id}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 3 }],
      ['post', `/v1/contracts/${id}/signatures`, { kid: member.kid, signature: 'A'.repeat(86) }],
      ['post', `/v1/jobs/${id}/complete`, { resultDigest: '0'.repeat(64) }],
    ];
    for (const [who, calls] of [[ctx.operator, asOperator], [member, asMember]] as const) {
      for (const [method, path, body] of calls) {
        const res = await signed(ctx.app, who, method, path, body);
        expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
      }
    }
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });
});
