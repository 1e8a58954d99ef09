/**
 * `tds report` on a real service: a normal run (contracts, releases,
 * completions, a failure, denials) shows no violation, online and from an
 * exported bundle; then an insider who bypasses the service's checks queues
 * releases straight into the ledger (one beyond the contract's limit, one
 * dated outside its window): the sequencer signs them like any other, the
 * ledger verifies, and the report names both and exits 1.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { auditorCli, closeAuditorCli, runCli, type AuditorCli } from '../helpers/auditor-cli.js';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { verifierKey } from '../../src/ledger/checkpoint.js';

let ctx: TestContext;
let live: AuditorCli;
let service: string;
let dir: string;
let keyFile: string;
let logKey: string;
let hospital: Actor;
let institute: Actor;
let contractId: string;
let cleanContractId: string;

const cli = (...args: string[]) => runCli(args);
const report = (...args: string[]) => cli('report', '--service', service, '--key', keyFile, '--log-key', logKey, '--state', path.join(dir, `state-${randomUUID()}.json`), ...args);

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  const auditor = await makeParticipant(ctx, ['auditor']);
  live = await auditorCli(ctx, auditor, 'tds-report-');
  ({ service, dir, keyFile, logKey } = live);

  // A normal history: two releases of a 2-invocation contract (one completed, one failed), then a denial.
  contractId = await activeContract(ctx, hospital, institute, { maxInvocations: 2 });
  const jobs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000007' });
    expect(res.status).toBe(201);
    jobs.push(res.body.id as string);
  }
  await signed(ctx.app, institute, 'post', `/v1/jobs/${jobs[0]}/complete`, { resultDigest: 'a'.repeat(64) });
  await signed(ctx.app, institute, 'post', `/v1/jobs/${jobs[1]}/fail`, { reason: 'the gateway refused the download' });
  expect((await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000007' })).body.code).toBe('CONTRACT_EXHAUSTED');
  cleanContractId = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
  await ctx.services.ledger.flush();
});
afterAll(async () => {
  await closeAuditorCli(live);
  await ctx.close();
});

describe('tds report', () => {
  it('reports a normal run with no violation, online and from an exported bundle', async () => {
    const res = await report();
    expect(res).toMatchObject({ code: 0 });
    expect(res.out).toMatch(/^OK: \d+ entries verified/m);
    expect(res.out).toContain(`contract ${contractId} (exhausted)`);
    expect(res.out).toContain('  releases: 2 of at most 2');
    expect(res.out).toContain('  purposes granted: DUO:0000006; used: DUO:0000007 x2');
    expect(res.out).toMatch(/ {2}jobs never completed: 1\n {4}job \S+ \(failed: the gateway refused the download\)/);
    expect(res.out).toContain('  denials: CONTRACT_EXHAUSTED x1');
    expect(res.out).toMatch(/^OK: no violations in 2 contract\(s\), 2 release\(s\)$/m);

    const bundle = path.join(dir, 'bundle');
    expect((await cli('ledger', 'export', '--service', service, '--key', keyFile, '--out', bundle)).code).toBe(0);
    const offline = await cli('report', '--bundle', bundle, '--log-key', logKey, '--contract', contractId, '--json');
    expect(offline.code).toBe(0);
    const json = JSON.parse(offline.out) as { verified: boolean; ok: boolean; contracts: Array<{ contractId: string; releases: { inPeriod: number } }> };
    expect(json).toMatchObject({ verified: true, ok: true, contracts: [{ contractId, releases: { inPeriod: 2 } }] });
    // A wrong log key: nothing is reported from an unverified ledger.
    const other = verifierKey(logKey.split('+')[0]!, publicKeyOf(generateKeyPair().secretKey));
    const wrong = await cli('report', '--bundle', bundle, '--log-key', other);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/^FAILED: /m);
    expect(wrong.out).not.toContain('contract ');
    expect((await cli('report', '--bundle', bundle, '--log-key', logKey, '--from', 'yesterday')).code).toBe(2);
  });

  it('flags releases an insider queued past the service\'s checks: over the limit and outside the window', async () => {
    const subjects = (job: string) => JSON.stringify({ job, contract: contractId, dataset: 'x', provider: hospital.id, consumer: institute.id });
    const [over, outside] = [randomUUID(), randomUUID()];
    await ctx.ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data) VALUES ('job.authorized', $1, $2::jsonb, '{"purpose": "DUO:0000006", "access": "download"}')`, [institute.id, subjects(over)]);
    await ctx.ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data, at) VALUES ('job.authorized', $1, $2::jsonb, '{"purpose": "DUO:0000006", "access": "download"}', '2020-01-01T00:00:00Z')`, [institute.id, subjects(outside)]);
    await ctx.services.ledger.flush();
    const res = await report();
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^OK: \d+ entries verified/m); // the ledger itself is intact: the service signed what it was given
    expect(res.out).toMatch(new RegExp(`^VIOLATION over-limit: contract ${contractId}, job ${over}, .*release 3 of a contract limited to 2$`, 'm'));
    expect(res.out).toMatch(new RegExp(`^VIOLATION outside-window: contract ${contractId}, job ${outside}, .*at 2020-01-01T00:00:00.000Z`, 'm'));
    expect(res.out).toMatch(/^FAILED: \d+ violation\(s\) in 1 contract\(s\)$/m);
    // Another contract alone is clean; a period around 2020 shows only the misdated release (also the 4th of 2).
    expect((await report('--contract', cleanContractId)).code).toBe(0);
    const in2020 = await report('--from', '2019-12-31T00:00:00Z', '--to', '2020-01-02T00:00:00Z', '--json');
    expect(in2020.code).toBe(1);
    const json = JSON.parse(in2020.out) as { violations: Array<{ kind: string; jobId: string }> };
    expect(json.violations.map((v) => [v.kind, v.jobId])).toEqual(expect.arrayContaining([['over-limit', outside], ['outside-window', outside]]));
  });
});
