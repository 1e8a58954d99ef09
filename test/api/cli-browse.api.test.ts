/**
 * The browse commands (docs/cli.md): `tds catalog`, `offers`, `contracts`,
 * `jobs` and `participants` against a real service over HTTP, with key files
 * on disk. Tables show names and titles beside the ids; `--json` prints the
 * API's own page; `--to-sign` and `--pending` pick what awaits the caller;
 * bad options exit 2, API refusals exit 1.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listenOnLoopback } from '../helpers/loopback.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, register, signed, type Actor } from '../helpers/actors.js';
import { makeOffer, publishDataset, signCanonical } from '../helpers/scenario.js';
import { runTds } from '../../src/cli/tds.js';
import { TdsClient } from '../../src/client/tds-client.js';

let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let hospital: Actor;
let institute: Actor;
let both: Actor;
let operator: Actor;
const keyFile: Record<string, string> = {};
const id: Record<string, string> = {};

/** Run a command line as `who`; exit status and output lines. */
async function tds(who: string, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { TDS_URL: serviceUrl, TDS_KEY: keyFile[who]!, TDS_AUDIENCE: ctx.config.audience };
  const code = await runTds(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env });
  return { code, out, err };
}

/** The --json output of a command, parsed (exit 0 expected). */
async function json(who: string, ...argv: string[]): Promise<{ items: Array<Record<string, unknown>>; nextCursor: string | null }> {
  const r = await tds(who, ...argv, '--json');
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: [] });
  return JSON.parse(r.out.join('\n')) as { items: Array<Record<string, unknown>>; nextCursor: string | null };
}

/** The table row naming `rowId`, split into its cells. */
function row(lines: string[], rowId: string): string[] {
  const line = lines.find((l) => l.startsWith(`${rowId} `));
  if (!line) throw new Error(`no row ${rowId} in:\n${lines.join('\n')}`);
  return line.split(/\s{2,}/);
}

const api = async (who: Actor, url: string) => {
  const res = await signed(ctx.app, who, 'get', url);
  expect(res.status).toBe(200);
  return res.body as { items: Array<Record<string, unknown>>; nextCursor: string | null };
};

async function propose(consumer: Actor, offerId: string, signers: Actor[]): Promise<string> {
  const res = await signed(ctx.app, consumer, 'post', '/v1/contracts', { offerId, purposes: ['DUO:0000006'], maxInvocations: 3 });
  expect(res.status).toBe(201);
  for (const s of signers) expect((await signed(ctx.app, s, 'post', `/v1/contracts/${res.body.id}/signatures`, { kid: s.kid, signature: signCanonical(s, res.body.canonical) })).status).toBe(200);
  return res.body.id as string;
}

beforeAll(async () => {
  ctx = await createTestContext();
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-cli-browse-'));
  hospital = await makeParticipant(ctx, ['provider'], 'St. Mary Hospital');
  institute = await makeParticipant(ctx, ['consumer'], 'Heart Institute');
  both = await makeParticipant(ctx, ['provider', 'consumer'], 'Both Lab');
  operator = { ...ctx.operator, id: ctx.operator.iss };
  await register(ctx.app, { name: 'Waiting Clinic', roles: ['provider'] });
  for (const [name, a] of Object.entries({ hospital, institute, both, operator })) {
    keyFile[name] = path.join(tmp, `${name}.json`);
    fs.writeFileSync(keyFile[name], JSON.stringify({ id: a.id, kid: a.kid, privateJwk: a.privateJwk }), { mode: 0o600 });
  }
  id.heart = await publishDataset(ctx, hospital, { title: 'Heart failure cohort', researchField: 'cardiology' });
  id.icu = await publishDataset(ctx, hospital, { title: 'ICU vitals', researchField: 'intensive-care', description: 'bedside monitor vitals' });
  id.insight = await publishDataset(ctx, both, { title: 'Insight summary', researchField: 'cardiology', kind: 'insight' });
  id.heartOffer = await makeOffer(ctx, hospital, id.heart, { price: { perInvocation: '12.50', currency: 'EUR' }, validUntil: '2099-06-30T00:00:00Z' });
  id.insightOffer = await makeOffer(ctx, both, id.insight);
  id.active = await propose(institute, id.heartOffer, [institute, hospital]);
  id.hospitalToSign = await propose(institute, id.heartOffer, [institute]);
  id.instituteToSign = await propose(institute, id.heartOffer, []);
  id.bothAsConsumerToSign = await propose(both, id.heartOffer, []);
  id.bothAsProviderToSign = await propose(institute, id.insightOffer, [institute]);
  const job = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: id.active, purpose: 'DUO:0000006' });
  expect(job.status).toBe(201);
  id.job = job.body.id as string;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('tds catalog', () => {
  it('shows published datasets with titles and provider names, filtered like the API', async () => {
    const r = await tds('institute', 'catalog');
    expect(r.code).toBe(0);
    expect(r.out[0]!.split(/\s{2,}/)).toEqual(['dataset', 'title', 'field', 'kind', 'provider', 'published']);
    expect(row(r.out, id.heart)).toEqual([id.heart, 'Heart failure cohort', 'cardiology', 'raw', 'St. Mary Hospital', expect.stringMatching(/^\d{4}-\d\d-\d\d$/)]);
    expect(row(r.out, id.insight).slice(1, 5)).toEqual(['Insight summary', 'cardiology', 'insight', 'Both Lab']);
    expect(r.out).toHaveLength(4);

    expect((await json('institute', 'catalog', '--field', 'cardiology', '--kind', 'insight')).items.map((d) => d.id)).toEqual([id.insight]);
    expect((await json('institute', 'catalog', '--q', 'monitor')).items.map((d) => d.id)).toEqual([id.icu]);
    expect((await json('institute', 'catalog', '--provider', hospital.id)).items.map((d) => d.id)).toEqual([id.heart, id.icu]);
    // --json is the API's page, every item of it.
    expect(await json('institute', 'catalog')).toEqual(await api(institute, '/v1/datasets?status=published'));

    const first = await json('institute', 'catalog', '--limit', '2');
    expect(first.items.map((d) => d.id)).toEqual([id.heart, id.icu]);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect((await tds('institute', 'catalog', '--limit', '1')).out.at(-1)).toBe('(first 1 shown; raise --limit for more)');
    expect((await tds('institute', 'catalog', '--q', 'nothing like this')).out).toEqual(['no datasets match']);
  });

  it('exits 2 on bad options and 1 on an API refusal', async () => {
    expect((await tds('institute', 'catalog', '--kind', 'cooked')).code).toBe(2);
    expect((await tds('institute', 'catalog', '--limit', '0')).code).toBe(2);
    expect(await tds('institute', 'catalog', '--provider', 'not-a-uuid')).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: VALIDATION_FAILED: /)] });
  });
});

describe('tds offers', () => {
  it('shows the dataset and its offers with terms and price', async () => {
    const r = await tds('institute', 'offers', id.heart);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`dataset ${id.heart}: Heart failure cohort (cardiology, raw, published) by St. Mary Hospital`);
    expect(r.out[1]!.split(/\s{2,}/)).toEqual(['offer', 'status', 'access', 'purposes', 'max', 'from', 'until', 'price']);
    expect(row(r.out, id.heartOffer)).toEqual([id.heartOffer, 'active', 'download', 'DUO:0000006', '100', expect.stringMatching(/^\d{4}-/), '2099-06-30', '12.50 EUR']);
    expect(await json('institute', 'offers', id.heart)).toEqual(await api(institute, `/v1/datasets/${id.heart}/offers`));
    expect((await tds('institute', 'offers', id.icu)).out.at(-1)).toBe('no offers on this dataset');
    expect((await tds('institute', 'offers', '00000000-0000-4000-8000-000000000000')).err).toEqual([expect.stringMatching(/^tds: NOT_FOUND: /)]);
    expect((await tds('institute', 'offers')).code).toBe(2);
  });
});

describe('tds contracts', () => {
  it('lists the caller\'s contracts with the dataset title and both names', async () => {
    const r = await tds('institute', 'contracts');
    expect(r.code).toBe(0);
    expect(r.out[0]!.split(/\s{2,}/)).toEqual(['contract', 'state', 'dataset', 'provider', 'consumer', 'used', 'until']);
    expect(row(r.out, id.active)).toEqual([id.active, 'active', 'Heart failure cohort', 'St. Mary Hospital', 'Heart Institute', '1/3', '2099-06-30']);
    expect(row(r.out, id.bothAsProviderToSign).slice(1, 5)).toEqual(['consumer_signed', 'Insight summary', 'Both Lab', 'Heart Institute']);
    expect(r.out).toHaveLength(5);
    expect(await json('hospital', 'contracts', '--role', 'provider', '--state', 'consumer_signed')).toEqual(await api(hospital, '/v1/contracts?role=provider&state=consumer_signed'));
    expect((await json('institute', 'contracts', '--state', 'active')).items.map((c) => c.id)).toEqual([id.active]);
    expect((await json('operator', 'contracts')).items).toHaveLength(5);
  });

  it('--to-sign: a provider countersigns what consumers signed, a consumer signs what it proposed, both when it is both', async () => {
    const hospitalList = await tds('hospital', 'contracts', '--to-sign');
    expect(hospitalList.out.slice(1, -1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([[id.hospitalToSign, 'consumer_signed']]);
    expect(hospitalList.out.at(-1)).toBe('sign with: tds contract sign <contract> (it shows the terms first)');
    expect((await json('institute', 'contracts', '--to-sign')).items.map((c) => c.id)).toEqual([id.instituteToSign]);
    expect((await json('both', 'contracts', '--to-sign')).items.map((c) => c.id)).toEqual([id.bothAsConsumerToSign, id.bothAsProviderToSign]);
    expect((await json('both', 'contracts', '--to-sign', '--role', 'provider')).items.map((c) => c.id)).toEqual([id.bothAsProviderToSign]);
    expect((await tds('operator', 'contracts', '--to-sign')).out).toEqual(['nothing awaits your signature']);
  });

  it('exits 2 on a bad state, role or combination', async () => {
    for (const argv of [['--state', 'signed'], ['--role', 'auditor'], ['--to-sign', '--state', 'active'], ['--limit', 'x']]) {
      expect({ argv, code: (await tds('institute', 'contracts', ...argv)).code }).toEqual({ argv, code: 2 });
    }
  });
});

describe('tds jobs', () => {
  it('lists jobs with the dataset title and the parties\' names, for consumer and provider', async () => {
    const consumerView = await tds('institute', 'jobs');
    expect(consumerView.out[0]!.split(/\s{2,}/)).toEqual(['job', 'state', 'access', 'dataset', 'provider', 'consumer', 'purpose', 'created', 'reason']);
    expect(row(consumerView.out, id.job).slice(0, 7)).toEqual([id.job, 'authorized', 'download', 'Heart failure cohort', 'St. Mary Hospital', 'Heart Institute', 'DUO:0000006']);
    expect(row((await tds('hospital', 'jobs', '--role', 'provider')).out, id.job)[3]).toBe('Heart failure cohort');
    expect(await json('hospital', 'jobs', '--role', 'provider', '--contract', id.active)).toEqual(await api(hospital, `/v1/jobs?role=provider&contractId=${id.active}`));
    expect((await tds('institute', 'jobs', '--state', 'queued')).out).toEqual(['no jobs']);
    expect((await tds('institute', 'jobs', '--state', 'done')).code).toBe(2);
    expect((await tds('institute', 'jobs', '--role', 'reviewer')).err).toEqual([expect.stringMatching(/^tds: ROLE_REQUIRED: /)]);
  });
});

describe('tds participants', () => {
  it('shows the directory; pending registrations only to the operator', async () => {
    const directory = await tds('institute', 'participants');
    expect(directory.out[0]!.split(/\s{2,}/)).toEqual(['participant', 'name', 'roles', 'status', 'organization', 'registered']);
    expect(row(directory.out, hospital.id).slice(1, 4)).toEqual(['St. Mary Hospital', 'provider', 'active']);
    expect(directory.out.join('\n')).not.toContain('Waiting Clinic');

    const pending = await tds('operator', 'participants', '--pending');
    expect(pending.out.slice(1, -1).map((l) => l.split(/\s{2,}/).slice(1, 4))).toEqual([['Waiting Clinic', 'provider', 'pending']]);
    expect(pending.out.at(-1)).toBe('approve with: tds approve <participant>');
    expect((await tds('institute', 'participants', '--pending')).out).toEqual(['no pending registrations (only the operator sees them)']);
    expect(await json('operator', 'participants', '--role', 'consumer')).toEqual(await api(operator, '/v1/participants?role=consumer'));
    expect((await json('operator', 'participants', '--limit', '2')).items).toHaveLength(2);
    expect((await tds('operator', 'participants', '--pending', '--status', 'active')).code).toBe(2);
  });
});

describe('following pages', () => {
  it('fetches every page, or stops at the limit with the cursor to go on', async () => {
    const client = new TdsClient({ baseUrl: serviceUrl, audience: ctx.config.audience, credentials: { id: operator.id, kid: operator.kid, privateJwk: operator.privateJwk } });
    const everything = await api(operator, '/v1/participants');
    const all = await client.listAll('/v1/participants', {}, undefined, 2);
    expect(all).toEqual({ items: everything.items, nextCursor: null });
    const three = await client.listAll<{ id: string }>('/v1/participants', {}, 3, 2);
    expect(three.items).toEqual(everything.items.slice(0, 3));
    const rest = await client.listAll<{ id: string }>('/v1/participants', { cursor: three.nextCursor! }, undefined, 2);
    expect([...three.items, ...rest.items]).toEqual(everything.items);
  });
});
