/**
 * POST/GET /v1/statements on the real app and database: lines built from the
 * ledger with exact amounts, signed by the ledger key, appended as
 * statement.issued, reproducible at the same tree size, only for the party
 * or the operator, and bad input refused with nothing written.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { canonicalizeStatement, verifyStatementSignature, type SignedStatement } from '../../src/statements/statement-document.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let both: Actor;
let stranger: Actor;
let contractId: string;
let freeContract: string;
let ats: string[];

async function release(consumer: Actor, contract: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: contract, purpose: 'DUO:0000006' });
    if (res.status !== 201) throw new Error(`job failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  both = await makeParticipant(ctx, ['provider', 'consumer']);
  stranger = await makeParticipant(ctx, ['consumer']);
  contractId = await activeContract(ctx, hospital, institute, { offer: { price: { perInvocation: '19.99', currency: 'EUR' } }, maxInvocations: 20 });
  freeContract = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
  await release(institute, contractId, 7);
  await release(institute, freeContract, 2);
  await ctx.services.ledger.flush();
  const rows = (await ctx.ds.query(`SELECT entry::jsonb->>'at' AS at FROM ledger_entries WHERE kind = 'job.authorized' ORDER BY idx`)) as Array<{ at: string }>;
  ats = rows.map((r) => r.at);
});
afterAll(() => ctx.close());

const FROM = '2000-01-01T00:00:00.000Z';
const TO = '2100-01-01T00:00:00.000Z';
const issue = (as: Actor | TestContext['operator'], body: Record<string, unknown>) => signed(ctx.app, as, 'post', '/v1/statements', body);

describe('issuing a statement', () => {
  it('counts every release of the party with exact amounts, signed by the ledger key, and records statement.issued', async () => {
    const res = await issue(hospital, { party: hospital.id, from: FROM, to: TO });
    expect(res.status).toBe(201);
    const s = res.body as SignedStatement;
    expect(res.headers.location).toBe(`/v1/statements/${s.statement.id}`);
    const cp = await ctx.services.ledger.latestCheckpoint();
    expect(s.statement).toMatchObject({ type: 'tds.statement.v1', party: hospital.id, role: 'provider', from: FROM, to: TO, treeSize: cp.size, rootHash: Buffer.from(cp.rootHash).toString('base64') });
    const byContract = Object.fromEntries(s.statement.lines.map((l) => [l.contractId, l]));
    expect(byContract[contractId]).toMatchObject({ counterparty: institute.id, perInvocation: '19.99', currency: 'EUR', invocations: 7, amount: '139.93' });
    expect(byContract[freeContract]).toMatchObject({ perInvocation: '0', currency: 'XXX', invocations: 2, amount: '0' });
    expect(s.statement.totals).toEqual([{ currency: 'EUR', amount: '139.93' }, { currency: 'XXX', amount: '0' }]);
    const indexes = (await ctx.ds.query(`SELECT idx::int AS idx FROM ledger_entries WHERE kind = 'job.authorized' AND subjects->>'contract' = $1 ORDER BY idx`, [contractId])) as Array<{ idx: number }>;
    expect(byContract[contractId]!.entries).toEqual(indexes.map((r) => r.idx));
    expect(verifyStatementSignature(s, ctx.keys.ledger.publicKey)).toBe(true);
    expect(verifyStatementSignature({ ...s, statement: { ...s.statement, totals: [] } }, ctx.keys.ledger.publicKey)).toBe(false);

    await ctx.services.ledger.flush();
    const issued = (await ctx.ds.query(`SELECT entry::jsonb AS e FROM ledger_entries WHERE kind = 'statement.issued' AND subjects->>'statement' = $1`, [s.statement.id])) as Array<{ e: { actor: string; subjects: Record<string, string>; data: { digest: string } } }>;
    expect(issued).toHaveLength(1);
    expect(issued[0]!.e).toMatchObject({ actor: hospital.id, subjects: { party: hospital.id }, data: { digest: canonicalizeStatement(s.statement).digest } });

    const got = await signed(ctx.app, hospital, 'get', `/v1/statements/${s.statement.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(s);
  });

  it('gives the consumer the other side of the same lines', async () => {
    const res = await issue(institute, { party: institute.id, from: FROM, to: TO });
    expect(res.status).toBe(201);
    const line = (res.body as SignedStatement).statement.lines.find((l) => l.contractId === contractId);
    expect(line).toMatchObject({ counterparty: hospital.id, amount: '139.93', invocations: 7 });
  });

  it('counts releases whose `at` lies in [from, to): from inclusive, to exclusive', async () => {
    const paid = ats.slice(0, 7);
    const res = await issue(hospital, { party: hospital.id, from: paid[2], to: paid[5] });
    const line = (res.body as SignedStatement).statement.lines.find((l) => l.contractId === contractId);
    expect(line).toMatchObject({ invocations: 3, amount: '59.97' });
  });

  it('is reproducible: the same period gives the same lines at the same and at a later tree size', async () => {
    const a = (await issue(hospital, { party: hospital.id, from: FROM, to: TO })).body as SignedStatement;
    const b = (await issue(ctx.operator, { party: hospital.id, from: FROM, to: TO })).body as SignedStatement;
    expect(b.statement.treeSize).toBe(a.statement.treeSize);
    expect(b.statement.id).not.toBe(a.statement.id);
    expect({ lines: b.statement.lines, totals: b.statement.totals, rootHash: b.statement.rootHash }).toEqual({ lines: a.statement.lines, totals: a.statement.totals, rootHash: a.statement.rootHash });
    await ctx.services.ledger.flush();
    const c = (await issue(hospital, { party: hospital.id, from: FROM, to: TO })).body as SignedStatement;
    expect(c.statement.treeSize).toBeGreaterThan(a.statement.treeSize);
    expect({ lines: c.statement.lines, totals: c.statement.totals }).toEqual({ lines: a.statement.lines, totals: a.statement.totals });
  });

  it('asks a party holding both roles which one, and then issues that side', async () => {
    expect((await issue(both, { party: both.id, from: FROM, to: TO })).body.errors[0].pointer).toBe('/role');
    const res = await issue(both, { party: both.id, from: FROM, to: TO, role: 'consumer' });
    expect(res.status).toBe(201);
    expect(res.body.statement).toMatchObject({ role: 'consumer', lines: [], totals: [] });
  });
});

describe('under concurrency', () => {
  it('issues one stored, signed, recorded statement per request, all with the same lines, over many rounds', async () => {
    const body = { party: hospital.id, from: FROM, to: TO };
    const [before] = (await ctx.ds.query(`SELECT (SELECT count(*) FROM statements)::int AS s, (SELECT count(*) FROM ledger_queue WHERE kind = 'statement.issued')::int AS q`)) as Array<{ s: number; q: number }>;
    const ids = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => issue(hospital, body)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
      const first = (answers[0]!.body as SignedStatement).statement;
      for (const a of answers) {
        const s = a.body as SignedStatement;
        ids.add(s.statement.id);
        expect(verifyStatementSignature(s, ctx.keys.ledger.publicKey)).toBe(true);
        expect({ lines: s.statement.lines, totals: s.statement.totals }).toEqual({ lines: first.lines, totals: first.totals });
      }
    }
    expect(ids.size).toBe(100);
    const [after] = (await ctx.ds.query(`SELECT (SELECT count(*) FROM statements)::int AS s, (SELECT count(*) FROM ledger_queue WHERE kind = 'statement.issued')::int AS q`)) as Array<{ s: number; q: number }>;
    expect({ s: after!.s - before!.s, q: after!.q - before!.q }).toEqual({ s: 100, q: 100 });
    // Issued statements are as append-only as the ledger.
    await expect(ctx.ds.query('UPDATE statements SET digest = digest')).rejects.toThrow();
    await expect(ctx.ds.query('DELETE FROM statements')).rejects.toThrow();
  });
});

describe('who may issue and read', () => {
  it('refuses a statement about another party (403) with nothing written; the operator may issue for anyone', async () => {
    const before = await snapshotCounts(ctx.ds);
    const res = await issue(stranger, { party: hospital.id, from: FROM, to: TO });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
    expect((await issue(ctx.operator, { party: institute.id, from: FROM, to: TO })).status).toBe(201);
  });

  it('shows a statement only to its party and the operator', async () => {
    const s = (await issue(hospital, { party: hospital.id, from: FROM, to: TO })).body as SignedStatement;
    for (const other of [stranger, institute]) {
      const res = await signed(ctx.app, other, 'get', `/v1/statements/${s.statement.id}`);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
    expect((await signed(ctx.app, ctx.operator, 'get', `/v1/statements/${s.statement.id}`)).body).toEqual(s);
    expect((await signed(ctx.app, hospital, 'get', '/v1/statements/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await signed(ctx.app, hospital, 'get', '/v1/statements/nope')).status).toBe(404);
  });
});

describe('bad input', () => {
  it.each([
    [{ from: FROM, to: TO }, 400, 'VALIDATION_FAILED', '/party'],
    [{ party: 'me', from: FROM, to: TO }, 400, 'VALIDATION_FAILED', '/party'],
    [{ party: 'SELF', to: TO }, 400, 'VALIDATION_FAILED', '/from'],
    [{ party: 'SELF', from: 'yesterday', to: TO }, 400, 'VALIDATION_FAILED', '/from'],
    [{ party: 'SELF', from: '0000-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z' }, 400, 'VALIDATION_FAILED', '/from'],
    [{ party: 'SELF', from: FROM, to: '2026-01-01T23:59:60Z' }, 400, 'VALIDATION_FAILED', '/to'],
    [{ party: 'SELF', from: TO, to: FROM }, 400, 'VALIDATION_FAILED', '/to'],
    [{ party: 'SELF', from: FROM, to: FROM }, 400, 'VALIDATION_FAILED', '/to'],
    [{ party: 'SELF', from: FROM, to: TO, role: 'auditor' }, 400, 'VALIDATION_FAILED', '/role'],
    [{ party: 'SELF', from: FROM, to: TO, role: 'consumer' }, 400, 'VALIDATION_FAILED', '/role'],
    [{ party: 'SELF', from: FROM, to: TO, extra: 1 }, 400, 'VALIDATION_FAILED', '/extra'],
  ] as Array<[Record<string, unknown>, number, string, string]>)('refuses %j with %i %s at %s, nothing written', async (body, status, code, pointer) => {
    const before = await snapshotCounts(ctx.ds);
    const res = await issue(hospital, { ...body, ...(body.party === 'SELF' ? { party: hospital.id } : {}) });
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((res.body.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toContain(pointer);
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });

  it('answers 404 to the operator for an unknown party, and 403 to anyone else', async () => {
    const ghost = '00000000-0000-4000-8000-000000000000';
    expect((await issue(ctx.operator, { party: ghost, from: FROM, to: TO })).status).toBe(404);
    expect((await issue(hospital, { party: ghost, from: FROM, to: TO })).status).toBe(403);
  });
});
