/**
 * `tds statement create|show|verify` against the real service over HTTP: an
 * honest statement verifies from the party's own proven entries; statements
 * the service signed but got wrong (a line removed, an amount changed, an
 * index counted twice, an entry of the period skipped) and a ledger view
 * hiding an entry are each rejected, naming the problem.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, publishDataset } from '../helpers/scenario.js';
import { runTds } from '../../src/cli/tds.js';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { verifierKey } from '../../src/ledger/checkpoint.js';
import { cosignerVerifierKey } from '../../src/ledger/cosignature.js';
import { fetchEvidence } from '../../src/cli/statement-commands.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { statementCurrencies } from '../../src/money/currencies.js';
import { verifyStatement } from '../../src/statements/verify-statement.js';
import { signStatement, type SignedStatement, type Statement } from '../../src/statements/statement-document.js';

let ctx: TestContext;
let server: http.Server;
let url: string;
let tmp: string;
let hospital: Actor;
let institute: Actor;
let paid: string;
let free: string;
let logKey: string;
let honest: SignedStatement;

const keyFile = (a: Actor) => {
  const f = path.join(tmp, `${a.id}.json`);
  if (!fs.existsSync(f)) fs.writeFileSync(f, JSON.stringify({ id: a.id, kid: a.kid, privateJwk: a.privateJwk }), { mode: 0o600 });
  return f;
};

async function tds(as: Actor, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { TDS_URL: url, TDS_KEY: keyFile(as), TDS_AUDIENCE: ctx.config.audience };
  const code = await runTds(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env });
  return { code, out, err };
}

async function release(contract: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) expect((await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: contract, purpose: 'DUO:0000006' })).status).toBe(201);
}

/** A statement the service signed with its real ledger key, after `change` (what a buggy or dishonest service could issue). */
function resigned(change: (s: Statement) => void): string {
  const s = JSON.parse(JSON.stringify(honest.statement)) as Statement;
  change(s);
  const f = path.join(tmp, `tampered-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(f, JSON.stringify({ statement: s, signature: signStatement(s, ctx.keys.ledger.secretKey) }));
  return f;
}

const line = (s: Statement, contract: string) => s.lines.find((l) => l.contractId === contract)!;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ server, url } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-statement-'));
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  paid = await activeContract(ctx, hospital, institute, { offer: { price: { perInvocation: '0.10', currency: 'EUR' } }, maxInvocations: 10 });
  free = await activeContract(ctx, hospital, institute, { maxInvocations: 10 });
  await release(paid, 4);
  await release(free, 1);
  await ctx.services.ledger.flush();
  logKey = ctx.services.ledger.verifierKey();
  fs.writeFileSync(path.join(tmp, 'ledger.key'), logKey);
  const file = path.join(tmp, 'honest.json');
  const created = await tds(hospital, 'statement', 'create', '--from', '2000-01-01T00:00:00Z', '--to', '2100-01-01T00:00:00Z', '--out', file);
  expect(created.code).toBe(0);
  honest = JSON.parse(fs.readFileSync(file, 'utf8')) as SignedStatement;
  // Later entries (the statement.issued, more releases) make the served checkpoints newer than the statement's tree.
  await release(paid, 1);
  await ctx.services.ledger.flush();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tds statement', () => {
  it('creates, shows (table, CSV) and verifies an honest statement', async () => {
    expect(line(honest.statement, paid)).toMatchObject({ invocations: 4, amount: '0.40', currency: 'EUR' });
    const shown = await tds(hospital, 'statement', 'show', honest.statement.id);
    expect(shown.code).toBe(0);
    expect(shown.out.join('\n')).toContain('total 0.40 EUR');
    const csv = await tds(hospital, 'statement', 'show', path.join(tmp, 'honest.json'), '--csv');
    expect(csv.out[0]).toBe('kind,statement,party,role,from,to,contractId,datasetId,counterparty,invocations,perInvocation,currency,amount');
    expect(csv.out).toContain(`line,${honest.statement.id},${hospital.id},provider,2000-01-01T00:00:00.000Z,2100-01-01T00:00:00.000Z,${paid},${line(honest.statement, paid).datasetId},${institute.id},4,0.10,EUR,0.40`);
    expect(csv.out).toContain(`total,${honest.statement.id},${hospital.id},provider,2000-01-01T00:00:00.000Z,2100-01-01T00:00:00.000Z,,,,4,,EUR,0.40`);
    const ok = await tds(hospital, 'statement', 'verify', path.join(tmp, 'honest.json'), '--log-key', `@${path.join(tmp, 'ledger.key')}`);
    expect(ok.err).toEqual([]);
    expect(ok.code).toBe(0);
    expect(ok.out.join('\n')).toMatch(/OK: signature by the pinned ledger key/);
    const asCsv = await tds(hospital, 'statement', 'verify', path.join(tmp, 'honest.json'), '--log-key', logKey, '--csv');
    expect(asCsv.code).toBe(0);
    expect(asCsv.out[0]).toMatch(/^kind,statement/);
  });

  it.each([
    ['one line removed', (s: Statement) => void (s.lines = s.lines.filter((l) => l.contractId !== paid)), /contract .* 4 job\.authorized in the period .* but no line/],
    ['one amount changed', (s: Statement) => void (line(s, paid).amount = '0.41'), /amount 0\.41 EUR is not 4 × 0\.10 = 0\.40/],
    ['one ledger index duplicated', (s: Statement) => {
      const l = line(s, paid);
      l.entries.push(l.entries[0]!);
      l.invocations = 5;
      l.amount = '0.50';
    }, /ledger index \d+ is counted twice/],
    ['an index moved to another contract\'s line', (s: Statement) => {
      const l = line(s, paid);
      const moved = l.entries.pop()!;
      line(s, free).entries.push(moved);
    }, /ledger index \d+ is not a job\.authorized of this contract in the period/],
    ['a period that silently skips an entry', (s: Statement) => {
      const l = line(s, paid);
      l.entries.splice(1, 1);
      l.invocations = 3;
      l.amount = '0.30';
      s.totals = s.totals.map((t) => (t.currency === 'EUR' ? { currency: 'EUR', amount: '0.30' } : t));
    }, /job\.authorized at ledger index \d+ \(invocation 2, at .*\) is in the period but not counted/],
    ['a total changed', (s: Statement) => void (s.totals = s.totals.map((t) => (t.currency === 'EUR' ? { currency: 'EUR', amount: '0.04' } : t))), /totals: the statement says 0\.04 EUR/],
    ['another party\'s name', (s: Statement) => void (s.party = institute.id), /is about .* not the key file's participant/],
  ])('rejects a signed statement with %s, naming the problem', async (_name, change, problem) => {
    const res = await tds(hospital, 'statement', 'verify', resigned(change), '--log-key', logKey);
    expect(res.code).toBe(1);
    expect(res.out.join('\n')).toMatch(problem);
    expect(res.out[0]).toMatch(/^FAILED: /);
  });

  it('rejects a statement changed after signing, and one checked against another key', async () => {
    const f = path.join(tmp, 'unsigned.json');
    fs.writeFileSync(f, JSON.stringify({ ...honest, statement: { ...honest.statement, totals: [] } }));
    expect((await tds(hospital, 'statement', 'verify', f, '--log-key', logKey)).out[0]).toMatch(/^FAILED: signature/);
    const other = verifierKey(logKey.split('+')[0]!, publicKeyOf(generateKeyPair().secretKey));
    const res = await tds(hospital, 'statement', 'verify', path.join(tmp, 'honest.json'), '--log-key', other);
    expect(res.code).toBe(1);
    expect(res.out[0]).toMatch(/^FAILED: signature/);
    // Not a log key at all (here a key id that does not match, or a witness's key from a file): a bad command line.
    fs.writeFileSync(path.join(tmp, 'witness.vkey'), `${cosignerVerifierKey('w.test/witness', publicKeyOf(generateKeyPair().secretKey))}\n`);
    for (const bad of ['tds+00000000+AQ' + 'A'.repeat(42) + '=', `@${path.join(tmp, 'witness.vkey')}`]) {
      const usage = await tds(hospital, 'statement', 'verify', path.join(tmp, 'honest.json'), '--log-key', bad);
      expect({ bad, code: usage.code }).toEqual({ bad, code: 2 });
      expect(usage.err[0]).toMatch(/^tds: statement verify: --log-key /);
    }
  });

  it('detects a ledger view that hides one of the party\'s releases, or serves one twice', async () => {
    const client = new TdsClient({ baseUrl: url, audience: ctx.config.audience, credentials: { id: hospital.id, kid: hospital.kid, privateJwk: hospital.privateJwk } });
    const evidence = await fetchEvidence(client, honest.statement);
    const input = { signed: honest, logKey, partyId: hospital.id, ...evidence };
    expect(verifyStatement(statementCurrencies(), input)).toMatchObject({ ok: true });
    const releases = evidence.pages.flatMap((pg) => pg.entries).filter((e) => (e.entry as { kind: string; subjects: { contract: string } }).kind === 'job.authorized' && (e.entry as { subjects: { contract: string } }).subjects.contract === paid);
    const hidden = releases[1]!.index;
    const hiding = { ...input, pages: evidence.pages.map((pg) => ({ ...pg, entries: pg.entries.filter((e) => e.index !== hidden) })) };
    const r = verifyStatement(statementCurrencies(), hiding);
    expect(r).toEqual({ ok: false, problem: expect.stringMatching(new RegExp(`contract ${paid}: invocation 2 is missing from the party's ledger entries`)) });
    const badProof = { ...input, pages: evidence.pages.map((pg) => ({ ...pg, entries: pg.entries.map((e) => (e.index === hidden ? { ...e, proof: e.proof.slice(1) } : e)) })) };
    expect(verifyStatement(statementCurrencies(), badProof)).toEqual({ ok: false, problem: expect.stringMatching(new RegExp(`ledger entry ${hidden}: inclusion proof fails`)) });
    const noConsistency = { ...input, consistency: {} };
    expect(verifyStatement(statementCurrencies(), noConsistency)).toEqual({ ok: false, problem: expect.stringMatching(/no consistency proof from tree size/) });
  });

  it('refuses bad command lines and another party\'s statement', async () => {
    expect((await tds(hospital, 'statement', 'create', '--to', '2100-01-01T00:00:00Z')).code).toBe(2);
    expect((await tds(hospital, 'statement', 'verify', path.join(tmp, 'honest.json'))).code).toBe(2);
    const other = await tds(institute, 'statement', 'show', honest.statement.id);
    expect(other.code).toBe(1);
    expect(other.err.join('\n')).toMatch(/FORBIDDEN/);
    const bad = await tds(hospital, 'statement', 'create', '--from', '2100-01-01T00:00:00Z', '--to', '2000-01-01T00:00:00Z');
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/VALIDATION_FAILED/);
  });

  it('prices offers exactly from the command line', async () => {
    const datasetId = await publishDataset(ctx, hospital);
    const offer = (price: string) => tds(hospital, 'offer', 'create', datasetId, '--purposes', 'DUO:0000006', '--max-invocations', '3', '--price', price, '--access', 'download');
    const ok = await offer('12.50 EUR');
    expect(ok.err).toEqual([]);
    expect(ok.code).toBe(0);
    const id = ok.out.find((l) => l.startsWith('offer: '))!.slice(7);
    expect((await signed(ctx.app, institute, 'get', `/v1/offers/${id}`)).body.price).toEqual({ perInvocation: '12.50', currency: 'EUR' });
    const wrong = await offer('12.345 EUR');
    expect(wrong.code).toBe(1);
    expect(wrong.err.join('\n')).toMatch(/VALIDATION_FAILED/);
    expect((await offer('twelve')).code).toBe(2);
  });
});
