/**
 * The must-show of value distribution: three providers, two consumers, two
 * currencies, prices where binary floats drift (0.10 × 3, 19.99 × 7): every
 * party's statement verifies from its own proven entries, every amount is
 * exact, and the providers' totals equal the consumers' totals per currency,
 * in the statements and in the operator's settlement view.
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { fetchEvidence } from '../../src/cli/statement-commands.js';
import { runTds } from '../../src/cli/tds.js';
import { statementCurrencies } from '../../src/money/currencies.js';
import { toMinorUnits } from '../../src/money/money.js';
import { verifyStatement } from '../../src/statements/verify-statement.js';
import type { SignedStatement } from '../../src/statements/statement-document.js';

let ctx: TestContext;
let server: http.Server;
let url: string;
let tmp: string;
let p1: Actor, p2: Actor, p3: Actor, c1: Actor, c2: Actor;
const FROM = '2000-01-01T00:00:00.000Z';
const TO = '2100-01-01T00:00:00.000Z';

async function priced(provider: Actor, consumer: Actor, perInvocation: string, currency: string, releases: number): Promise<string> {
  const id = await activeContract(ctx, provider, consumer, { offer: { price: { perInvocation, currency } }, maxInvocations: 10 });
  for (let i = 0; i < releases; i++) expect((await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: id, purpose: 'DUO:0000006' })).status).toBe(201);
  return id;
}

beforeAll(async () => {
  ctx = await createTestContext();
  ({ server, url } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-settlement-'));
  [p1, p2, p3] = [await makeParticipant(ctx, ['provider']), await makeParticipant(ctx, ['provider']), await makeParticipant(ctx, ['provider'])];
  [c1, c2] = [await makeParticipant(ctx, ['consumer']), await makeParticipant(ctx, ['consumer'])];
  await priced(p1, c1, '0.10', 'EUR', 3);
  await priced(p2, c1, '19.99', 'EUR', 7);
  await priced(p1, c2, '19.99', 'EUR', 1);
  await priced(p2, c2, '0.10', 'EUR', 3);
  await priced(p3, c2, '150', 'JPY', 2);
  await priced(p3, c1, '1.500', 'BHD', 3);
  await ctx.services.ledger.flush();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function statementOf(a: Actor): Promise<SignedStatement> {
  const res = await signed(ctx.app, a, 'post', '/v1/statements', { party: a.id, from: FROM, to: TO });
  expect(res.status).toBe(201);
  return res.body as SignedStatement;
}

const totals = (s: SignedStatement) => Object.fromEntries(s.statement.totals.map((t) => [t.currency, t.amount]));

describe('value distribution across three providers, two consumers, three currencies', () => {
  it('gives every party exact, verifiable statements whose two sides balance per currency', async () => {
    // What floats would say: the exact figures below are not what naive arithmetic gives.
    expect(0.1 + 0.1 + 0.1).not.toBe(0.3);
    expect(19.99 * 7).not.toBe(139.93);
    expect(0.1 * 3).not.toBe(0.3);

    const statements = new Map<Actor, SignedStatement>();
    for (const a of [p1, p2, p3, c1, c2]) statements.set(a, await statementOf(a));
    expect(totals(statements.get(p1)!)).toEqual({ EUR: '20.29' });
    expect(totals(statements.get(p2)!)).toEqual({ EUR: '140.23' });
    expect(totals(statements.get(p3)!)).toEqual({ JPY: '300', BHD: '4.500' });
    expect(totals(statements.get(c1)!)).toEqual({ EUR: '140.23', BHD: '4.500' });
    expect(totals(statements.get(c2)!)).toEqual({ EUR: '20.29', JPY: '300' });
    const line = statements.get(c1)!.statement.lines.find((l) => l.perInvocation === '0.10')!;
    expect(line).toMatchObject({ invocations: 3, amount: '0.30', counterparty: p1.id });
    expect(statements.get(p2)!.statement.lines.find((l) => l.perInvocation === '19.99')).toMatchObject({ invocations: 7, amount: '139.93', counterparty: c1.id });

    const table = statementCurrencies();
    const side = (parties: Actor[]) => {
      const sums: Record<string, bigint> = {};
      for (const a of parties) for (const t of statements.get(a)!.statement.totals) sums[t.currency] = (sums[t.currency] ?? 0n) + toMinorUnits(table, t.amount, t.currency);
      return sums;
    };
    expect(side([p1, p2, p3])).toEqual({ EUR: 16052n, JPY: 300n, BHD: 4500n });
    expect(side([c1, c2])).toEqual(side([p1, p2, p3]));

    const logKey = ctx.services.ledger.verifierKey();
    for (const [a, s] of statements) {
      const client = new TdsClient({ baseUrl: url, audience: ctx.config.audience, credentials: { id: a.id, kid: a.kid, privateJwk: a.privateJwk } });
      const result = verifyStatement(table, { signed: s, logKey, partyId: a.id, ...(await fetchEvidence(client, s.statement)) });
      expect(result).toMatchObject({ ok: true, totals: s.statement.totals });
    }
  });

  it('shows the operator the same figures per currency in the settlement view, balanced', async () => {
    const res = await signed(ctx.app, ctx.operator, 'get', `/v1/settlements?from=${FROM}&to=${TO}`);
    expect(res.status).toBe(200);
    expect(res.body.balanced).toBe(true);
    const eur = res.body.currencies.find((c: { currency: string }) => c.currency === 'EUR');
    expect(eur).toMatchObject({ consumersTotal: '160.52', providersTotal: '160.52', balanced: true });
    expect(Object.fromEntries(eur.consumers.map((x: { party: string; amount: string }) => [x.party, x.amount]))).toEqual({ [c1.id]: '140.23', [c2.id]: '20.29' });
    expect(Object.fromEntries(eur.providers.map((x: { party: string; amount: string }) => [x.party, x.amount]))).toEqual({ [p1.id]: '20.29', [p2.id]: '140.23' });
    expect(res.body.currencies.map((c: { currency: string; providersTotal: string }) => [c.currency, c.providersTotal])).toEqual([['BHD', '4.500'], ['EUR', '160.52'], ['JPY', '300']]);

    const opKey = path.join(ctx.dataDir, 'operator.json');
    const out: string[] = [];
    const code = await runTds(['settlement', '--from', FROM, '--to', TO], { out: (l) => void out.push(l), err: () => undefined, isTTY: false, prompt: async () => '', env: { TDS_URL: url, TDS_KEY: opKey, TDS_AUDIENCE: ctx.config.audience } });
    expect(code).toBe(0);
    expect(out).toContain('EUR: consumers owe 160.52, providers are owed 160.52');
  });

  it('is for the operator only, and refuses bad periods', async () => {
    const res = await signed(ctx.app, p1, 'get', `/v1/settlements?from=${FROM}&to=${TO}`);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'ROLE_REQUIRED' });
    for (const q of [`from=${TO}&to=${FROM}`, `from=${FROM}`, `from=soon&to=${TO}`, `from=${FROM}&to=${TO}&x=1`]) {
      const bad = await signed(ctx.app, ctx.operator, 'get', `/v1/settlements?${q}`);
      expect({ status: bad.status, code: bad.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    }
  });
});
