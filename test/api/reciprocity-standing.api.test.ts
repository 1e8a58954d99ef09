/**
 * Reciprocity accounting (hardening, class 11): a contribution counts only
 * once shown real (a completed job whose downloaded bytes matched, or the
 * provider's data node's attestation), and GET /reciprocity/standing answers
 * exactly what the next release will be told: over several rule
 * configurations (fields named like Object.prototype members included), as
 * the facts change step by step, standing says yes iff POST /jobs releases.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, attestDataset, makeOffer, publishDataset } from '../helpers/scenario.js';
import { TdsClient } from '../../src/client/tds-client.js';
import { runJob } from '../../src/cli/job-runner.js';
import { standingCommand } from '../../src/cli/participant-commands.js';
import { attestDatasetFile } from '../../src/compute/attest-dataset.js';
import type { CliIo } from '../../src/cli/cli-args.js';

let ctx: TestContext;
let api: http.Server;
let files: http.Server;
let serviceUrl: string;
let filesUrl: string;
let tmp: string;
const PURPOSE = 'DUO:0000006';

beforeAll(async () => {
  ctx = await createTestContext();
  api = ctx.app.listen(0, '127.0.0.1');
  await new Promise((r) => api.once('listening', r));
  serviceUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  // A provider's file server: serves /real.csv, and nothing at all for anything else.
  files = http.createServer((req, res) => {
    if (req.url === '/real.csv') res.end('a,b\n1,2\n');
    else res.writeHead(404).end();
  });
  files.listen(0, '127.0.0.1');
  await new Promise((r) => files.once('listening', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-standing-'));
});
afterAll(async () => {
  await new Promise((r) => api.close(r));
  await new Promise((r) => files.close(r));
  await ctx.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const clientOf = (a: Actor) => new TdsClient({ baseUrl: serviceUrl, credentials: { id: a.id, kid: a.kid, privateJwk: a.privateJwk }, audience: ctx.config.audience });
const quietIo = (): CliIo & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(l), isTTY: false, prompt: async () => '', env: {} };
};
const rule = async (body: Record<string, unknown>) => {
  const res = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', body);
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const standing = async (a: Actor, q: string) => {
  const res = await signed(ctx.app, a, 'get', `/v1/reciprocity/standing?${q}`);
  expect(res.status).toBe(200);
  return res.body as { mayAccess: boolean; nextRelease: { authorized: boolean; needs: string }; shared: Array<{ id: string; contributed: boolean }>; rules: Array<{ holds: boolean; needs?: string }> };
};

describe('a contribution counts only once it is shown real', () => {
  it('a dataset whose URL serves nothing does not count; one whose bytes a consumer received and checked does', async () => {
    const field = 'nephrology';
    const sharer = await makeParticipant(ctx, ['consumer', 'provider']);
    const other = await makeParticipant(ctx, ['provider']);
    // The reader is subject to the rule too: it contributes an insight its own data node attested.
    const reader = await makeParticipant(ctx, ['consumer', 'provider']);
    const readersOwn = await publishDataset(ctx, reader, { kind: 'insight', researchField: field });
    await makeOffer(ctx, reader, readersOwn);
    await attestDataset(ctx, reader, readersOwn);
    const wanted = await publishDataset(ctx, other, { kind: 'insight', researchField: field });
    const real = Buffer.from('a,b\n1,2\n');
    const sha = createHash('sha256').update(real).digest('hex');
    // Published with the digest of real bytes, but nothing is served at its URL.
    const empty = await publishDataset(ctx, sharer, { kind: 'insight', researchField: field, distribution: { url: `${filesUrl}/nothing.csv`, sha256: sha, byteSize: real.length, mediaType: 'text/csv' } });
    const served = await publishDataset(ctx, sharer, { kind: 'insight', researchField: field, distribution: { url: `${filesUrl}/real.csv`, sha256: sha, byteSize: real.length, mediaType: 'text/csv' } });
    const onEmpty = await activeContract(ctx, sharer, reader, { offerId: await makeOffer(ctx, sharer, empty), maxInvocations: 5 });
    const onServed = await activeContract(ctx, sharer, reader, { offerId: await makeOffer(ctx, sharer, served), maxInvocations: 5 });
    const contract = await activeContract(ctx, other, sharer, { offerId: await makeOffer(ctx, other, wanted), maxInvocations: 5 });
    await rule({ kind: 'minimum-contribution', researchField: field, datasetKind: 'insight', minCount: 1 });

    // Both are shared, neither is shown real: the next release is refused, and standing says so and why.
    let s = await standing(sharer, `contractId=${contract}`);
    expect(s.mayAccess).toBe(false);
    expect(s.nextRelease.needs).toMatch(/^one more release needs 1 more contributed insight dataset in nephrology \(rule .*, minimum-contribution\)$/);
    expect(s.shared.map((d) => d.contributed)).toEqual([false, false]);
    expect((await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: contract, purpose: PURPOSE })).body.code).toBe('RECIPROCITY_UNMET');

    // A consumer's job on the empty URL downloads nothing and never completes: still nothing counts.
    const reading = clientOf(reader);
    await expect(runJob({ client: reading, contractId: onEmpty, purpose: PURPOSE, command: ['true'], allowPrivateAddresses: true, workDir: path.join(tmp, 'empty'), io: quietIo() })).rejects.toThrow(/404/);
    // Claiming completion with other bytes' digest does not count either.
    const fake = await signed(ctx.app, reader, 'post', '/v1/jobs', { contractId: onEmpty, purpose: PURPOSE });
    expect((await signed(ctx.app, reader, 'post', `/v1/jobs/${fake.body.id}/complete`, { resultDigest: 'e'.repeat(64), datasetSha256: createHash('sha256').update('').digest('hex') })).status).toBe(200);
    // Nor does the provider's attestation of a file that is not the published one.
    const wrong = await signed(ctx.app, sharer, 'post', `/v1/datasets/${empty}/attestations`, { sha256: 'f'.repeat(64), byteSize: real.length });
    expect([wrong.status, wrong.body.code]).toEqual([422, 'ATTESTATION_MISMATCH']);
    s = await standing(sharer, `contractId=${contract}`);
    expect(s.mayAccess).toBe(false);
    expect((await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: contract, purpose: PURPOSE })).body.code).toBe('RECIPROCITY_UNMET');

    // The served one: the consumer downloads, checks the digest, runs, completes with the digest it computed.
    expect(await runJob({ client: reading, contractId: onServed, purpose: PURPOSE, command: ['true'], allowPrivateAddresses: true, workDir: path.join(tmp, 'served'), out: path.join(tmp, 'served.result'), io: quietIo() })).toBe(0);
    s = await standing(sharer, `contractId=${contract}`);
    expect(s).toMatchObject({ mayAccess: true, nextRelease: { authorized: true, needs: '' } });
    expect(Object.fromEntries(s.shared.map((d) => [d.id, d.contributed]))).toEqual({ [empty]: false, [served]: true });
    expect((await signed(ctx.app, sharer, 'post', '/v1/jobs', { contractId: contract, purpose: PURPOSE })).status).toBe(201);
  });

  it('tds standing says in words what one more release needs', async () => {
    const field = 'hepatology';
    const sharer = await makeParticipant(ctx, ['consumer', 'provider']);
    await rule({ kind: 'minimum-contribution', researchField: field, datasetKind: 'insight', minCount: 2, minAgeDays: 0 });
    const bytes = Buffer.from('x,y\n3,4\n');
    const own = await publishDataset(ctx, sharer, { kind: 'insight', researchField: field, distribution: { url: `${filesUrl}/hep.csv`, sha256: createHash('sha256').update(bytes).digest('hex'), byteSize: bytes.length, mediaType: 'text/csv' } });
    await makeOffer(ctx, sharer, own);
    const io = quietIo();
    expect(await standingCommand(clientOf(sharer), field, 'insight', false, io)).toBe(0);
    expect(io.lines).toEqual(expect.arrayContaining([
      'next release of others\' data: refused',
      expect.stringMatching(/^ {2}one more release needs 2 more contributed insight datasets in hepatology \(rule .*, minimum-contribution\)$/),
      expect.stringMatching(new RegExp(`^ {6}pending: ${own} counts once shown real`)),
      expect.stringMatching(new RegExp(`^ {2}${own} insight published .*, not yet shown real \\(does not count\\)$`)),
    ]));
    // The data node attests only the file it really holds.
    const node = path.join(tmp, 'node');
    fs.mkdirSync(node);
    expect(await attestDatasetFile(clientOf(sharer), own, node)).toMatchObject({ attested: false, problem: expect.stringContaining('holds no copy') });
    fs.writeFileSync(path.join(node, 'hep.csv'), 'x,y\n3,5\n');
    expect(await attestDatasetFile(clientOf(sharer), own, node)).toMatchObject({ attested: false, problem: expect.stringContaining('is not the published distribution') });
    expect((await standing(sharer, `field=${field}`)).shared).toEqual([expect.objectContaining({ id: own, contributed: false })]);
    fs.writeFileSync(path.join(node, 'hep.csv'), bytes);
    expect(await attestDatasetFile(clientOf(sharer), own, node)).toMatchObject({ attested: true, sha256: createHash('sha256').update(bytes).digest('hex') });
    const after = quietIo();
    await standingCommand(clientOf(sharer), field, 'insight', false, after);
    expect(after.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}one more release needs 1 more contributed insight dataset in hepatology/)]));
  });
});

// Rule configurations, each in its own research field (two named like Object.prototype members).
const CONFIGS: Array<{ field: string; rules: Array<Record<string, unknown>> }> = [
  { field: 'prop-min1', rules: [{ kind: 'minimum-contribution', datasetKind: 'insight', minCount: 1 }] },
  { field: 'prop-min2', rules: [{ kind: 'minimum-contribution', datasetKind: 'insight', minCount: 2, minAgeDays: 0 }] },
  { field: 'prop-aged', rules: [{ kind: 'minimum-contribution', datasetKind: 'insight', minCount: 1, minAgeDays: 30 }] },
  { field: 'prop-share', rules: [{ kind: 'share-all', datasetKind: 'insight' }] },
  { field: 'prop-g2g', rules: [{ kind: 'give-to-get', datasetKind: 'insight', ratio: 1, allowance: 1 }] },
  { field: 'constructor', rules: [{ kind: 'give-to-get', datasetKind: 'insight', ratio: 0.5, allowance: 0 }, { kind: 'minimum-contribution', datasetKind: 'insight', minCount: 1 }] },
  { field: '__proto__', rules: [{ kind: 'share-all', datasetKind: 'insight' }, { kind: 'give-to-get', datasetKind: 'insight', ratio: 2, allowance: 1 }] },
];

describe('standing says yes iff the next job is released', () => {
  it.each(CONFIGS)('rules in $field', async ({ field, rules }) => {
    // P consumes Q's insights and shares its own; R consumes P's. Contracts first, then the rules.
    const [p, q, r] = [await makeParticipant(ctx, ['consumer', 'provider']), await makeParticipant(ctx, ['provider']), await makeParticipant(ctx, ['consumer'])];
    const theirs = await publishDataset(ctx, q, { kind: 'insight', researchField: field });
    const d1 = await publishDataset(ctx, p, { kind: 'insight', researchField: field });
    const pContract = await activeContract(ctx, q, p, { offerId: await makeOffer(ctx, q, theirs), maxInvocations: 50 });
    const rContract = await activeContract(ctx, p, r, { offerId: await makeOffer(ctx, p, d1), maxInvocations: 50 });
    for (const body of rules) await rule({ ...body, researchField: field });
    const d1sha = ((await signed(ctx.app, p, 'get', `/v1/datasets/${d1}`)).body.distribution as { sha256: string }).sha256;

    let step = '';
    /** Ask standing (per contract and per field), then the job itself: they must agree. */
    const check = async (who: Actor, contractId: string): Promise<boolean> => {
      const byContract = await standing(who, `contractId=${contractId}`);
      const byField = await standing(who, `field=${encodeURIComponent(field)}&kind=insight`);
      expect(byField.mayAccess).toBe(byContract.mayAccess);
      expect(byContract.nextRelease.authorized).toBe(byContract.mayAccess);
      expect(byContract.nextRelease.needs === '').toBe(byContract.mayAccess);
      const job = await signed(ctx.app, who, 'post', '/v1/jobs', { contractId, purpose: PURPOSE });
      expect({ field, step, released: job.status === 201 }).toEqual({ field, step, released: byContract.mayAccess });
      if (job.status !== 201) expect(job.body.code).toBe('RECIPROCITY_UNMET');
      // R's released download completes with the digest of the bytes it checked: P's dataset is shown real.
      if (job.status === 201 && who === r) expect((await signed(ctx.app, r, 'post', `/v1/jobs/${job.body.id}/complete`, { resultDigest: 'a'.repeat(64), datasetSha256: d1sha })).status).toBe(200);
      return job.status === 201;
    };
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['nothing shared yet', async () => undefined],
      ['d1 on offer, not shown real', async () => undefined],
      ['R asks for d1', async () => check(r, rContract)],
      ['d1 attested by its node', () => attestDataset(ctx, p, d1)],
      ['R asks again', async () => check(r, rContract)],
      ['P asks again', async () => check(p, pContract)],
      ['a second dataset, attested', async () => {
        const d2 = await publishDataset(ctx, p, { kind: 'insight', researchField: field });
        await makeOffer(ctx, p, d2);
        await attestDataset(ctx, p, d2);
      }],
      ['P asks once more', async () => check(p, pContract)],
      ['P withdraws d1', async () => expect((await signed(ctx.app, p, 'post', `/v1/datasets/${d1}/withdraw`)).status).toBe(200)],
    ];
    for (const [name, act] of steps) {
      step = name;
      await act();
      await check(p, pContract);
    }
  });
});
