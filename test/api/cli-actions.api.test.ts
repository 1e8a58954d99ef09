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
import { TdsClient, type Credentials } from '../../src/client/tds-client.js';
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
    for (const words of [
      'provider:        St. Mary Hospital — participant',
      'consumer:        Heart Research Institute — participant',
      'dataset:         Heart failure cohort 2015-2024 — ',
      'purposes:        disease specific research (DS) — DUO:0000007',
      'invocations:     at most 3',
      'valid:           from ',
      'until 2099-01-01T00:00:00.000Z',
      'price:           12.50 EUR per invocation',
      'access:          compute at the provider',
      'groups under 20 rows are not released',
      'counts rounded to multiples of 10',
      'no min or max',
      'no output review',
    ]) expect(shown).toContain(words);
    expect(declined.out.at(-1)).toBe('not signed');

    // What was shown is what is signed: the names and the title are in the canonical bytes the signature covers.
    const c = await clientOf(institute).getContract(contractId);
    expect(c.state).toBe('proposed');
    expect(canonicalizeContract(c.document).canonical).toBe(c.canonical);
    for (const text of ['"name":"St. Mary Hospital"', '"name":"Heart Research Institute"', '"title":"Heart failure cohort 2015-2024"']) expect(c.canonical).toContain(text);
    expect(shown).toContain(`digest (sha256): ${c.digest}`);

    expect((await tds(institute, ['contract', 'sign', contractId], { answer: 'y' })).out.at(-1)).toBe('signed as consumer; state: consumer_signed');
  });
});
