/**
 * State gaps (hardening, class 10): what a request may do is decided on the
 * state at the database's time, and a refusal is recorded without writing
 * into the trail of parties that did not take part.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let intruder: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  intruder = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

async function entries(filter: Record<string, string>, kind = 'job.denied'): Promise<Array<{ subjects: Record<string, string>; data: Record<string, unknown> }>> {
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb ORDER BY idx`, [kind, JSON.stringify(filter)])) as Array<{ entry: string }>;
  return rows.map((r) => JSON.parse(r.entry) as { subjects: Record<string, string>; data: Record<string, unknown> });
}

describe('a non-party\'s job attempt', () => {
  it('is refused and recorded under the requester alone, not in the contract parties\' trail', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    const res = await signed(ctx.app, intruder, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006' });
    expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(await entries({ contract: cid })).toEqual([]);
    const mine = await entries({ requester: intruder.id });
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ subjects: { requester: intruder.id }, data: { reason: 'FORBIDDEN', contractId: cid } });
    expect(mine[0]!.subjects).not.toHaveProperty('consumer');
  });
});
