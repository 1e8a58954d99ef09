/**
 * Two ledger details a verifier relies on: the `contract.exhausted` of the
 * last invocation comes after the `job.authorized` that exhausted the
 * contract (cause before effect, in ledger order), and `participant.approved`
 * has one data shape `{from, to}`, whether the operator approved a
 * registration or the service bootstrapped its operator.
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';

let ctx: TestContext;
let auditor: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  auditor = await makeParticipant(ctx, ['auditor']);
});
afterAll(() => ctx.close());

interface Entry {
  index: number;
  kind: string;
  actor: string;
  subjects: Record<string, string>;
  data: Record<string, unknown>;
}

async function entries(): Promise<Entry[]> {
  await ctx.services.ledger.flush();
  const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/entries?start=0&limit=1000');
  expect(res.status).toBe(200);
  return (res.body.entries as Array<{ entry: Entry }>).map((e) => e.entry);
}

describe('ledger order and shapes', () => {
  it('appends contract.exhausted after the job.authorized that used the last invocation', async () => {
    const provider = await makeParticipant(ctx, ['provider']);
    const consumer = await makeParticipant(ctx, ['consumer']);
    // Several contracts, so one lucky ordering cannot pass the test.
    for (let i = 0; i < 3; i++) {
      const contractId = await activeContract(ctx, provider, consumer, { maxInvocations: 1 });
      const job = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
      expect(job.status).toBe(201);
      const all = await entries();
      const authorized = all.find((e) => e.kind === 'job.authorized' && e.subjects.contract === contractId);
      const exhausted = all.find((e) => e.kind === 'contract.exhausted' && e.subjects.contract === contractId);
      expect(authorized).toBeDefined();
      expect(exhausted).toMatchObject({ data: { invocationsUsed: 1 } });
      expect({ contractId, exhaustedAfterAuthorized: exhausted!.index > authorized!.index }).toEqual({ contractId, exhaustedAfterAuthorized: true });
    }
  });

  it('gives participant.approved one data shape {from, to}, the bootstrapped operator included', async () => {
    const approved = (await entries()).filter((e) => e.kind === 'participant.approved');
    const operatorId = ctx.operator.iss;
    expect(approved.find((e) => e.subjects.participant === operatorId)).toBeDefined();
    expect(approved.find((e) => e.subjects.participant === auditor.id)).toBeDefined();
    for (const e of approved) expect({ participant: e.subjects.participant, data: e.data }).toEqual({ participant: e.subjects.participant, data: { from: 'pending', to: 'active' } });
  });
});
