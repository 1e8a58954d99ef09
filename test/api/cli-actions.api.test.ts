/**
 * The `tds` commands that act on what a participant owns, through `runTds`
 * against a real service on loopback: the sign prompt in words (names,
 * title, purpose labels, price, access, output policy), dataset withdraw,
 * contract revoke and verify of a revoked contract, reciprocity rules, key
 * rotation, and the hints errors carry.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listenOnLoopback } from '../helpers/loopback.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { TdsClient } from '../../src/client/tds-client.js';
import type { Credentials } from '../../src/client/credentials.js';
import { canonicalizeContract } from '../../src/agreements/contract-document.js';
import { runTds } from '../../src/cli/tds.js';

let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let operator: string;

beforeAll(async () => {
  ctx = await createTestContext({}, { background: true });
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-cli-actions-'));
  operator = path.join(ctx.dataDir, 'operator.json');
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string[];
  err: string[];
  prompts: string[];
}

/** Run a command line as `keyFile`; `answer` makes it a terminal that answers every question so. */
async function tds(keyFile: string, argv: string[], opts: { answer?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const prompts: string[] = [];
  const env = { TDS_URL: serviceUrl, TDS_KEY: keyFile, TDS_AUDIENCE: ctx.config.audience, ...opts.env };
  const isTTY = opts.answer !== undefined;
  const code = await runTds(argv, {
    out: (l) => void out.push(l),
    err: (l) => void err.push(l),
    isTTY,
    prompt: async (q) => {
      prompts.push(q);
      return opts.answer ?? '';
    },
    env,
  });
  return { code, out, err, prompts };
}

const credentialsOf = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials & { id: string };
const clientOf = (file: string) => new TdsClient({ baseUrl: serviceUrl, audience: ctx.config.audience, credentials: credentialsOf(file) });

/** keygen, register and approve through the CLI; returns the key file. */
async function participant(name: string, roles: string): Promise<string> {
  const file = path.join(tmp, `${name.replace(/\W+/g, '-').toLowerCase()}.json`);
  expect((await tds(file, ['keygen', '--out', file])).code).toBe(0);
  expect((await tds(file, ['register', '--name', name, '--roles', roles])).code).toBe(0);
  expect((await tds(operator, ['approve', credentialsOf(file).id])).code).toBe(0);
  return file;
}

let hospital: string;
let institute: string;

beforeAll(async () => {
  hospital = await participant('St. Mary Hospital', 'provider');
  institute = await participant('Heart Research Institute', 'consumer');
});

/** A published dataset (with columns, so it can be offered for compute) and an offer on it. */
async function datasetAndOffer(offer: Record<string, unknown>, title = 'Heart failure cohort 2015-2024'): Promise<{ datasetId: string; offerId: string }> {
  const h = clientOf(hospital);
  const d = await h.request<{ id: string }>('POST', '/v1/datasets', {
    title, description: 'one row per stay', researchField: 'cardiology', kind: 'raw',
    distribution: { url: 'http://127.0.0.1:9/hf.csv', sha256: 'a'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
    schema: { columns: [{ name: 'patient_id', type: 'string', identifier: true }, { name: 'ward', type: 'string' }, { name: 'los_days', type: 'number' }] },
  });
  const o = await h.createOffer(d.id, { purposes: ['DUO:0000006'], maxInvocations: 10, validUntil: '2099-12-31T00:00:00Z', ...offer });
  return { datasetId: d.id, offerId: o.id };
}

describe('tds contract sign shows the terms in words', () => {
  it('names both parties and the dataset, labels the purposes, and states count, window, price, access and output policy', async () => {
    const { offerId } = await datasetAndOffer({ price: { perInvocation: '12.50', currency: 'EUR' }, access: 'compute', outputPolicy: { minCellCount: 20, roundTo: 10 } });
    const proposal = await tds(institute, ['contract', 'propose', '--offer', offerId, '--purposes', 'DUO:0000007', '--max-invocations', '3', '--valid-until', '2099-01-01T00:00:00Z']);
    expect(proposal).toMatchObject({ code: 0, err: [] });
    const contractId = proposal.out.at(-1)!.split(' ').at(-1)!;

    const declined = await tds(institute, ['contract', 'sign', contractId], { answer: 'n' });
    expect(declined.code).toBe(1);
    expect(declined.prompts).toEqual(['sign as consumer? [y/N] ']);
    const shown = declined.out.join('\n');
    // Every value starts one space past the longest label's colon ("reciprocity rules:"), continuation lines under it.
    const field = (label: string, text: string) => `${`${label}:`.padEnd(19)}${text}`;
    for (const words of [
      field('provider', 'St. Mary Hospital — participant'),
      field('consumer', 'Heart Research Institute — participant'),
      field('dataset', 'Heart failure cohort 2015-2024 — '),
      field('purposes', 'disease specific research (DS) — DUO:0000007'),
      field('invocations', 'at most 3'),
      field('valid', 'from '),
      'until 2099-01-01T00:00:00.000Z',
      field('price', '12.50 EUR per invocation'),
      field('access', 'compute at the provider'),
      'groups under 20 rows are not released',
      'counts rounded to multiples of 10',
      'no min or max',
      'no output review',
      field('reciprocity rules', 'none named by the offer'),
    ]) expect(shown).toContain(words);
    const terms = declined.out.slice(0, declined.out.indexOf('not signed'));
    for (const line of terms) expect(line).toMatch(/^(?:[a-z][a-z0-9 ()]*: +|  +)\S/);
    expect(new Set(terms.map((l) => /^[^:]*: *|^ */.exec(l)![0].length))).toEqual(new Set([19]));
    expect(declined.out.at(-1)).toBe('not signed');

    // What was shown is what is signed: the names and the title are in the canonical bytes the signature covers.
    const c = await clientOf(institute).getContract(contractId);
    expect(c.state).toBe('proposed');
    expect(canonicalizeContract(c.document).canonical).toBe(c.canonical);
    for (const text of ['"name":"St. Mary Hospital"', '"name":"Heart Research Institute"', '"title":"Heart failure cohort 2015-2024"']) expect(c.canonical).toContain(text);
    expect(shown).toContain(field('digest (sha256)', c.digest));

    expect((await tds(institute, ['contract', 'sign', contractId], { answer: 'y' })).out.at(-1)).toBe('signed as consumer; state: consumer_signed');
  });
});

describe('tds dataset publish --schema / --columns declares the columns a compute offer needs', () => {
  // The walkthrough of docs/compute.md: the CSV, its schema file, and the analyses the institute sends.
  const CSV = 'patient_id,ward,age,smoker,los_days\nP001,cardiology,64,1,5.5\nP002,geriatrics,81,0,9\n';
  const SCHEMA = { columns: [
    { name: 'patient_id', type: 'string', identifier: true }, { name: 'ward', type: 'string' }, { name: 'age', type: 'integer' },
    { name: 'smoker', type: 'integer' }, { name: 'los_days', type: 'number' },
  ] };
  const SHOWN = 'columns: patient_id string (identifier), ward string, age integer, smoker integer, los_days number';
  const write = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const publish = (...options: string[]) => tds(hospital, ['dataset', 'publish', '--title', 'Ward stays 2024', '--field', 'cardiology',
    '--file', write('ward-stays.csv', CSV), '--url', 'http://127.0.0.1:9/ward-stays.csv', ...options]);
  const datasetIdOf = (run: Run) => /^dataset: (\S+)$/.exec(run.out[0] ?? '')?.[1] ?? '';
  const hospitalDatasets = async () => (await clientOf(hospital).getJson<{ items: Array<{ id: string }> }>('/v1/datasets', { provider: credentialsOf(hospital).id, limit: 100 })).items.length;

  it('publishes the declared columns, shows them, and the compute offer, contract and the documented analyses go through', async () => {
    const published = await publish('--schema', write('ward-stays.schema.json', JSON.stringify(SCHEMA)));
    expect(published).toMatchObject({ code: 0, err: [] });
    expect(published.out).toContain(SHOWN);
    const datasetId = datasetIdOf(published);
    expect((await clientOf(hospital).getDataset(datasetId)).schema).toEqual(SCHEMA);

    // Raw data: `offer create` defaults to compute, which needs the columns; now it is accepted.
    const offer = await tds(hospital, ['offer', 'create', datasetId, '--purposes', 'DUO:0000042', '--max-invocations', '5', '--min-cell-count', '10']);
    expect(offer).toMatchObject({ code: 0, err: [] });
    const offerId = /^offer: (\S+)$/.exec(offer.out[0]!)![1]!;
    expect((await clientOf(institute).getJson<{ access: string }>(`/v1/offers/${offerId}`)).access).toBe('compute');

    const proposal = await tds(institute, ['contract', 'propose', '--offer', offerId, '--purposes', 'DUO:0000042', '--max-invocations', '3']);
    const contractId = proposal.out.at(-1)!.split(' ').at(-1)!;
    expect((await tds(institute, ['contract', 'sign', contractId, '--yes'])).code).toBe(0);
    expect((await tds(hospital, ['contract', 'sign', contractId, '--yes'])).out.at(-1)).toBe('signed as provider; state: active');
    for (const analysis of [
      { type: 'aggregate', groupBy: ['ward'], filters: [{ column: 'age', op: '>=', value: 18 }], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] },
      { type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age', 'smoker'] },
    ]) {
      const job = await clientOf(institute).request<{ state: string; access: string }>('POST', '/v1/jobs', { contractId, purpose: 'DUO:0000042', analysis });
      expect(job).toMatchObject({ state: 'queued', access: 'compute' });
    }
  });

  it('takes the compact --columns, the whole schema object as the API takes it, and says when a raw dataset declares none', async () => {
    const compact = await publish('--columns', 'patient_id:string:identifier,ward:string,age:integer,smoker:integer,los_days:number');
    expect(compact).toMatchObject({ code: 0, err: [] });
    expect(compact.out).toContain(SHOWN);
    expect((await clientOf(hospital).getDataset(datasetIdOf(compact))).schema).toEqual(SCHEMA);
    expect((await tds(hospital, ['offer', 'create', datasetIdOf(compact), '--purposes', 'DUO:0000042', '--max-invocations', '5', '--access', 'compute'])).code).toBe(0);

    // Other members of the schema object are kept as given.
    const whole = await publish('--schema', write('whole.schema.json', JSON.stringify({ ...SCHEMA, encoding: 'utf-8' })));
    expect(whole.code).toBe(0);
    expect((await clientOf(hospital).getDataset(datasetIdOf(whole))).schema).toEqual({ ...SCHEMA, encoding: 'utf-8' });

    const bare = await publish();
    expect(bare).toMatchObject({ code: 0, err: [] });
    expect(bare.out).toContain('columns: none declared (a compute offer needs them: publish with --schema FILE or --columns; a download offer does not)');
    expect(await tds(hospital, ['offer', 'create', datasetIdOf(bare), '--purposes', 'DUO:0000042', '--max-invocations', '5']))
      .toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: VALIDATION_FAILED: .*schema\.columns/)] });
  });

  it('refuses an unreadable or invalid schema file (exit 2, naming it) and a bad column type (exit 1, the service\'s refusal), publishing nothing', async () => {
    const before = await hospitalDatasets();
    const usage = (message: RegExp) => ({ code: 2, out: [], err: [expect.stringMatching(message), expect.stringMatching(/^usage: tds dataset publish /)] });
    const missing = path.join(tmp, 'no-such.schema.json');
    expect(await publish('--schema', missing)).toMatchObject(usage(new RegExp(`^tds: dataset publish: --schema: cannot read ${missing}: ENOENT$`)));
    const broken = write('broken.schema.json', '{"columns": [{"name": "age", "type": "integer"},]}');
    expect(await publish('--schema', broken)).toMatchObject(usage(new RegExp(`^tds: dataset publish: --schema: ${broken} is not JSON: `)));
    const list = write('list.schema.json', JSON.stringify(SCHEMA.columns));
    expect(await publish('--schema', list)).toMatchObject(usage(/must be a JSON object with a columns list/));
    expect(await publish('--columns', 'age:integer,ward')).toMatchObject(usage(/--columns item 2 "ward" must be name:type or name:type:identifier/));
    expect(await publish('--columns', 'age:integer', '--schema', list)).toMatchObject(usage(/give --schema or --columns, not both/));

    const badType = write('bad-type.schema.json', JSON.stringify({ columns: [{ name: 'age', type: 'float' }] }));
    const refusedType = (i: number) => ({ code: 1, out: [], err: [expect.stringMatching(new RegExp(`^tds: VALIDATION_FAILED: .*/schema/columns/${i}/type must be one of: integer, number, string, boolean, date$`))] });
    expect(await publish('--schema', badType)).toMatchObject(refusedType(0));
    expect(await publish('--columns', 'age:integer,smoker:bool')).toMatchObject(refusedType(1));
    expect(await publish('--columns', '1x:integer')).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: VALIDATION_FAILED: .*\/schema\/columns\/0\/name must match pattern/)] });
    expect(await publish('--columns', 'age:integer,age:number')).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: VALIDATION_FAILED: column age is declared twice/)] });
    expect(await hospitalDatasets()).toBe(before);
  });
});

/** Propose (as the institute) and have both parties sign through the CLI; returns the contract id. */
async function signedContract(offerId: string, provider = hospital): Promise<string> {
  const proposal = await tds(institute, ['contract', 'propose', '--offer', offerId, '--purposes', 'DUO:0000006', '--max-invocations', '2']);
  expect(proposal).toMatchObject({ code: 0, err: [] });
  const id = proposal.out.at(-1)!.split(' ').at(-1)!;
  expect((await tds(institute, ['contract', 'sign', id, '--yes'])).code).toBe(0);
  if (provider) expect((await tds(provider, ['contract', 'sign', id, '--yes'])).out.at(-1)).toBe('signed as provider; state: active');
  return id;
}

describe('tds dataset withdraw', () => {
  it('withdraws the provider\'s own dataset, in words or JSON, and passes on the service\'s refusals', async () => {
    const { datasetId } = await datasetAndOffer({ access: 'download' }, 'Withdrawn cohort');
    expect(await tds(institute, ['dataset', 'withdraw', datasetId])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: (NOT_OWNER|ROLE_REQUIRED): /)] });
    const w = await tds(hospital, ['dataset', 'withdraw', datasetId]);
    expect(w).toMatchObject({ code: 0, err: [] });
    expect(w.out[0]).toBe(`dataset ${datasetId} (Withdrawn cohort): withdrawn`);
    expect(w.out[1]).toMatch(/no new offers, contracts or releases/);
    expect(await tds(hospital, ['dataset', 'withdraw', datasetId])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: INVALID_STATE_TRANSITION: /)] });
    const { datasetId: other } = await datasetAndOffer({ access: 'download' });
    const json = await tds(hospital, ['--json', 'dataset', 'withdraw', other]);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({ id: other, status: 'withdrawn' });
    expect((await tds(hospital, ['dataset', 'withdraw'])).code).toBe(2);
  });
});

describe('tds contract revoke, and tds contract verify on a revoked contract', () => {
  it('revokes with a reason; verify says the state, the reason and where the keys came from, online and offline', async () => {
    const { offerId } = await datasetAndOffer({ access: 'download' });
    const id = await signedContract(offerId);
    expect(await tds(institute, ['contract', 'revoke', id, '--reason', 'mine'])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: ROLE_REQUIRED: /)] });

    const before = await tds(institute, ['contract', 'verify', id]);
    expect(before.out).toEqual(expect.arrayContaining([`contract ${id}: valid`, '  state now: active: in force']));

    const r = await tds(hospital, ['contract', 'revoke', id, '--reason', 'ethics approval withdrawn']);
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out.slice(0, 2)).toEqual([`contract ${id}: revoked`, 'reason: ethics approval withdrawn']);
    expect(await tds(hospital, ['contract', 'revoke', id])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: INVALID_STATE_TRANSITION: /)] });

    const saved = path.join(tmp, `revoked-${id}.json`);
    const online = await tds(institute, ['contract', 'verify', id, '--save', saved]);
    expect(online).toMatchObject({ code: 0, err: [] });
    const hospitalId = credentialsOf(hospital).id;
    const instituteId = credentialsOf(institute).id;
    expect(online.out).toEqual(expect.arrayContaining([
      `contract ${id}: valid`,
      '  state now: revoked: no longer in force',
      '  revocation reason: ethics approval withdrawn',
      expect.stringMatching(new RegExp(`^  consumer Heart Research Institute \\(${instituteId}\\) signed with ${credentialsOf(institute).kid} at .*, a key still current$`)),
      `    key from the service's participant directory (${serviceUrl}/v1/participants/${instituteId})`,
      expect.stringMatching(new RegExp(`^  provider St. Mary Hospital \\(${hospitalId}\\) signed with ${credentialsOf(hospital).kid} at .*, a key still current$`)),
      `    key from the service's participant directory (${serviceUrl}/v1/participants/${hospitalId})`,
    ]));

    // Offline: no service, no key file; the keys are the ones pinned in the file.
    const offline = await tds('/nonexistent-key.json', ['contract', 'verify', saved], { env: { TDS_URL: 'http://127.0.0.1:9' } });
    expect(offline).toMatchObject({ code: 0, err: [] });
    expect(offline.out).toEqual(expect.arrayContaining([
      `contract ${id}: valid`,
      '  state when exported: revoked: no longer in force (verify by id for the current state)',
      '  revocation reason: ethics approval withdrawn',
      `    key pinned in ${saved} (offline)`,
    ]));
    expect(offline.out.filter((l) => l === `    key pinned in ${saved} (offline)`)).toHaveLength(2);

    const json = await tds(hospital, ['--json', 'contract', 'revoke', await signedContract(offerId)]);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({ state: 'revoked', revokeReason: 'revoked with tds contract revoke (no reason given)' });
  });
});

describe('tds rule create and tds rule list', () => {
  it('creates a space-wide rule as operator and an offer rule as provider, lists them, and shows schema refusals', async () => {
    const space = await tds(operator, ['rule', 'create', '--kind', 'minimum-contribution', '--field', 'oncology', '--min-count', '2', '--min-age-days', '30']);
    expect(space).toMatchObject({ code: 0, err: [] });
    const spaceId = space.out[0]!.replace('rule: ', '');
    expect(space.out.slice(1)).toEqual([
      'minimum-contribution on insight data in oncology (minCount 2, minAgeDays 30)',
      'scope: space-wide: applies to every insight dataset in oncology, at proposal and at every release',
    ]);
    const own = await tds(hospital, ['--json', 'rule', 'create', '--kind', 'give-to-get', '--field', 'oncology', '--dataset-kind', 'raw', '--ratio', '0.5', '--allowance', '3']);
    const ownRule = JSON.parse(own.out.join('\n')) as { id: string; scope: string; ratio: number };
    expect(ownRule).toMatchObject({ scope: 'offer', kind: 'give-to-get', ratio: 0.5, allowance: 3, datasetKind: 'raw' });

    expect(await tds(operator, ['rule', 'create', '--kind', 'share-all', '--field', 'oncology', '--min-count', '1'])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: VALIDATION_FAILED: .*minCount/)] });
    expect(await tds(institute, ['rule', 'create', '--kind', 'share-all', '--field', 'oncology'])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: ROLE_REQUIRED: /)] });
    expect((await tds(operator, ['rule', 'create', '--field', 'oncology'])).code).toBe(2);
    expect((await tds(operator, ['rule', 'create', '--kind', 'tit-for-tat', '--field', 'oncology'])).code).toBe(2);

    const list = await tds(institute, ['rule', 'list', '--field', 'oncology']);
    expect(list).toMatchObject({ code: 0, err: [] });
    expect(list.out[0]).toMatch(/^ID +SCOPE +KIND +FIELD +DATASETS +PARAMETERS +CREATED BY$/);
    expect(list.out.find((l) => l.startsWith(spaceId))).toMatch(/ space +minimum-contribution +oncology +insight +minCount 2, minAgeDays 30 /);
    expect(list.out.find((l) => l.startsWith(ownRule.id))).toMatch(/ offer +give-to-get +oncology +raw +ratio 0.5, allowance 3 /);
    const spaceOnly = JSON.parse((await tds(institute, ['--json', 'rule', 'list', '--field', 'oncology', '--scope', 'space'])).out.join('\n')) as Array<{ id: string }>;
    expect(spaceOnly.map((r) => r.id)).toEqual([spaceId]);
    expect((await tds(institute, ['rule', 'list', '--field', 'no-such-field'])).out).toEqual(['no reciprocity rules']);
  });
});

describe('tds key rotate', () => {
  it('rotates, writes the new key file (0600) atomically, keeps a dated backup, and explains what happens to pending proposals', async () => {
    const lab = await participant('Rotating Lab', 'provider');
    const old = fs.readFileSync(lab, 'utf8');
    const oldKid = credentialsOf(lab).kid;
    // A proposal the lab has not countersigned yet names its old key.
    const labClient = clientOf(lab);
    const d = await labClient.request<{ id: string }>('POST', '/v1/datasets', {
      title: 'Lab panel', description: '', researchField: 'hepatology', kind: 'raw',
      distribution: { url: 'http://127.0.0.1:9/panel.csv', sha256: 'b'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
    });
    const offer = await labClient.createOffer(d.id, { purposes: ['DUO:0000006'], maxInvocations: 5, access: 'download', validUntil: '2099-12-31T00:00:00Z' });
    const pending = await signedContract(offer.id, '');
    // Also naming the old key: one the lab signed (active), one nobody signed yet (proposed); not listed: a revoked one, and one of another provider.
    const active = await signedContract(offer.id, lab);
    const proposedOnly = (await tds(institute, ['contract', 'propose', '--offer', offer.id, '--purposes', 'DUO:0000006', '--max-invocations', '1'])).out.at(-1)!.split(' ').at(-1)!;
    const revoked = await signedContract(offer.id, lab);
    expect((await tds(lab, ['contract', 'revoke', revoked])).code).toBe(0);
    const { offerId: hospitalOffer } = await datasetAndOffer({ access: 'download' });
    await signedContract(hospitalOffer);

    const r = await tds(lab, ['key', 'rotate']);
    expect(r).toMatchObject({ code: 0, err: [] });
    const now = credentialsOf(lab);
    expect(now.kid).not.toBe(oldKid);
    expect(now.id).toBe(JSON.parse(old).id);
    expect(fs.statSync(lab).mode & 0o777).toBe(0o600);
    const backups = fs.readdirSync(tmp).filter((f) => f.startsWith('rotating-lab.json.') && f.endsWith('.bak'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^rotating-lab\.json\.\d{8}T\d{6}Z\.bak$/);
    const backup = path.join(tmp, backups[0]!);
    expect(fs.readFileSync(backup, 'utf8')).toBe(old);
    expect(fs.statSync(backup).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.rotating-'))).toEqual([]);
    expect(r.out.slice(0, 3)).toEqual([`participant ${now.id}: key rotated`, `new key: ${now.kid} (in ${lab}, mode 0600)`, `old key: ${oldKid} (no longer authenticates; backup in ${backup})`]);
    const said = r.out.join('\n');
    expect(said).toContain('signatures you already made stay valid');
    expect(said).toContain('SIGNING_KEY_ROTATED');
    expect(said).toContain('the consumer proposes again from the same offer');
    // Which contracts name the old key, and what each needs: re-issuing the ones the lab had not signed.
    const listed = r.out.slice(r.out.indexOf(`contracts naming the old key ${oldKid} (3):`));
    expect(listed).toEqual([
      `contracts naming the old key ${oldKid} (3):`,
      `  ${pending}  consumer_signed  Lab panel (you: provider)  needs re-issuing: you had not signed it and cannot now; ask the consumer to propose again from offer ${offer.id}`,
      `  ${proposedOnly}  proposed  Lab panel (you: provider)  needs re-issuing: you had not signed it and cannot now; ask the consumer to propose again from offer ${offer.id}`,
      `  ${active}  active  Lab panel (you: provider)  signed with the old key before the rotation: stays valid (in force)`,
      '2 proposal(s) to re-issue: the consumer runs tds contract propose --offer <offer> again, then both sign',
    ]);

    // The new key works, the old one does not, and the pending proposal cannot be countersigned: re-proposing can.
    expect((await tds(lab, ['rule', 'list'])).code).toBe(0);
    expect(await tds(backup, ['rule', 'list'])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: KEY_ROTATED: /)] });
    expect(await tds(lab, ['contract', 'sign', pending, '--yes'])).toMatchObject({ code: 1, err: [expect.stringMatching(/cannot be signed any more: the consumer proposes again/)] });
    expect((await tds(lab, ['contract', 'sign', await signedContract(offer.id, ''), '--yes'])).out.at(-1)).toBe('signed as provider; state: active');

    // A refused rotation (signed by the rotated-out key) changes nothing and leaves no pending key behind.
    const backupBefore = fs.readFileSync(backup, 'utf8');
    expect(await tds(backup, ['key', 'rotate'])).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: KEY_ROTATED: /)] });
    expect(fs.readFileSync(backup, 'utf8')).toBe(backupBefore);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('rotating-lab.json.') && (f.includes('.rotating-') || f.endsWith('.bak')))).toEqual([backups[0]]);
    expect((await tds(backup, ['--json', 'key', 'rotate'])).code).toBe(1);

    // Rotating again (--json): the contract signed after the first rotation names the key now rotated out; the old ones do not.
    const second = await tds(lab, ['--json', 'key', 'rotate']);
    expect(second).toMatchObject({ code: 0, err: [] });
    const answer = JSON.parse(second.out.join('\n')) as { oldKid: string; contractsNamingOldKey: Array<Record<string, unknown>> };
    expect(answer.oldKid).toBe(now.kid);
    expect(answer.contractsNamingOldKey).toEqual([expect.objectContaining({ state: 'active', role: 'provider', datasetTitle: 'Lab panel', offerId: offer.id, signed: true, needsReissue: false })]);
  });

  it('says when no open proposal or contract names the old key', async () => {
    const quiet = await participant('Quiet Lab', 'consumer');
    const oldKid = credentialsOf(quiet).kid;
    const r = await tds(quiet, ['key', 'rotate']);
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out.at(-1)).toBe(`contracts naming the old key ${oldKid}: none (no open proposal or active contract names it)`);
  });
});
