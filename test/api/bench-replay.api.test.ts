/**
 * The benchmark's pgbench replay of the job path is recorded from the
 * service's own code (bench/job-path-recorder.ts), not copied: recording a
 * real job gives the statements the service sends, and the script built from
 * the recording, run statement by statement with a fresh :rnd each time,
 * authorizes one more invocation on the same contract per run (a new job
 * row, a new used token, the counter + 1) without any constraint violation.
 * With rules on the dataset the steady-state path is one statement too (the
 * read its decision is made on is kept by the process for a while) and
 * replays the same way.
 */
import pg from 'pg';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, attestDataset, publishDataset, makeOffer } from '../helpers/scenario.js';
import { recordJobPath } from '../../bench/job-path-recorder.js';
import { jobPathScript } from '../../bench/pgbench-scripts.js';
import { TokenSigner } from '../../bench/client.js';

let ctx: TestContext;
let db: pg.Client;
let nextRnd = 1;
beforeAll(async () => {
  ctx = await createTestContext();
  db = new pg.Client({ connectionString: ctx.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await ctx.close();
});

/**
 * Runs a pgbench script's SQL the way pgbench would, with :rnd set to `rnd`:
 * a statement ending in `\gset PREFIX` stores its one row's columns (as text)
 * in variables PREFIXcolumn that later statements use as :PREFIXcolumn (a
 * parameter, as with pgbench -M prepared).
 */
async function runScript(script: string, rnd: number): Promise<void> {
  const body = script.split('\n').filter((l) => !l.startsWith('\\set')).join('\n').replace(/:rnd\b/g, String(rnd));
  const vars = new Map<string, string>();
  const asText = { getTypeParser: () => (v: string) => v };
  for (const raw of body.split(/;\n|(?<=\\gset \w+)\n/).map((s) => s.trim()).filter(Boolean)) {
    const gset = /\s\\gset (\w+)$/.exec(raw);
    const text = (gset ? raw.slice(0, gset.index) : raw).replace(/:(p\d+_[a-z0-9_]+)/g, (m, name: string) => {
      if (!vars.has(name)) throw new Error(`the script uses ${m} before any statement set it`);
      // pgbench (-M prepared) sends a variable as a text parameter: the same as a quoted literal here.
      return `'${vars.get(name)!.replace(/'/g, "''")}'`;
    });
    const result = await db.query({ text, types: asText });
    if (gset) {
      expect(result.rows).toHaveLength(1);
      for (const [k, v] of Object.entries(result.rows[0] as Record<string, string>)) vars.set(`${gset[1]}${k}`, v);
    }
  }
}

const counts = async (contractId: string): Promise<{ used: number; jobs: number; tokens: number; queued: number }> =>
  (await db.query(`SELECT (SELECT invocations_used FROM contracts WHERE id = $1)::int AS used, (SELECT count(*) FROM jobs WHERE contract_id = $1)::int AS jobs,
                          (SELECT count(*) FROM used_tokens)::int AS tokens, (SELECT count(*) FROM ledger_queue)::int AS queued`, [contractId])).rows[0];

async function replayable(consumer: Actor, contractId: string): Promise<{ statements: number }> {
  const recorded = await recordJobPath({ databaseUrl: ctx.databaseUrl, dataDir: ctx.dataDir, ledgerOrigin: ctx.config.ledgerOrigin, contracts: [{ contractId, consumer: new TokenSigner(consumer) }], warm: 1 });
  expect(recorded).toHaveLength(1);
  const job = recorded[0];
  // The recording is what the service really sent: the job's own id is among its values.
  const jobs = (await db.query('SELECT id FROM jobs WHERE contract_id = $1', [contractId])).rows.map((r: { id: string }) => r.id);
  expect(job.first.some((s) => s.values.some((v) => typeof v === 'string' && jobs.some((id) => v.includes(id))))).toBe(true);
  const [script] = (await jobPathScript('job-path', recorded).build(db)) as string[];
  expect(script).not.toMatch(/\$\d/);
  expect(script).toMatch(/md5\(:rnd::text \|\| '\d+'\)::uuid/);
  const before = await counts(contractId);
  // :rnd is random per pgbench transaction; here each run takes the next value.
  const first = nextRnd++;
  await runScript(script, first);
  await runScript(script, nextRnd++);
  const after = await counts(contractId);
  expect(after.used).toBe(before.used + 2);
  expect(after.jobs).toBe(before.jobs + 2);
  expect(after.tokens).toBeGreaterThanOrEqual(before.tokens + 2);
  expect(after.queued).toBeGreaterThan(before.queued);
  // The same :rnd again would be the same job id and jti: refused as a replayed request would be (an error, or a
  // statement that releases nothing, depending on the path): no invocation used, no job written.
  await runScript(script, first).catch(() => undefined);
  await db.query('ROLLBACK');
  const replayed = await counts(contractId);
  expect({ used: replayed.used, jobs: replayed.jobs }).toEqual({ used: after.used, jobs: after.jobs });
  return { statements: job.first.length };
}

describe('bench job-path replay', () => {
  it('is recorded from the service and replays as real, distinct job authorizations', async () => {
    const provider = await makeParticipant(ctx, ['provider']);
    const consumer = await makeParticipant(ctx, ['consumer']);
    const contractId = await activeContract(ctx, provider, consumer, { maxInvocations: 100 });
    const plain = await replayable(consumer, contractId);
    expect(plain.statements).toBeGreaterThanOrEqual(1);

    // Under rules (the dataset's field governed by minimum-contribution and give-to-get) the path is longer.
    const field = 'replay-genomics';
    for (const rule of [{ kind: 'minimum-contribution', minCount: 1 }, { kind: 'give-to-get', ratio: 1, allowance: 1000 }]) {
      const r = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { ...rule, researchField: field, datasetKind: 'raw' });
      expect(r.status).toBe(201);
    }
    const sharing = await makeParticipant(ctx, ['consumer', 'provider']);
    const shared = await publishDataset(ctx, sharing, { researchField: field });
    await makeOffer(ctx, sharing, shared);
    // A contribution counts once shown real: the sharer's own node attests its bytes.
    await attestDataset(ctx, sharing, shared);
    const rulesContract = await activeContract(ctx, provider, sharing, { datasetId: await publishDataset(ctx, provider, { researchField: field }), maxInvocations: 100 });
    const rules = await replayable(sharing, rulesContract);
    // In the steady state the rules path is the checked release statement alone (on the process's kept read):
    // no transaction, no lock across round trips.
    expect({ plain: plain.statements, rules: rules.statements }).toEqual({ plain: 1, rules: 1 });
  });
});
