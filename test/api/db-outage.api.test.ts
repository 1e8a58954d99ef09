/**
 * Every form of "the database refuses us" is 503 DATABASE_UNAVAILABLE with
 * Retry-After, never 500 (hardening, class 12): the service's database set to
 * refuse new connections with its backends terminated (SQLSTATE 55000 on
 * connect, 57P01 on the pooled ones) and backends terminated while idle in
 * the pool; after each, service resumes. The other SQLSTATE classes (08, 53,
 * 57P0x) and driver errors are covered by src/http/problem.test.ts (a
 * superuser test server ignores CONNECTION LIMIT, so 53300 cannot be staged here).
 */
import pg from 'pg';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';

let ctx: TestContext;
let admin: pg.Client;
let db: string;
let hospital: Actor;
let institute: Actor;
let contractId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  db = new URL(ctx.databaseUrl).pathname.slice(1);
  admin = new pg.Client({ connectionString: process.env.TDS_TEST_ADMIN_URL });
  await admin.connect();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  contractId = await activeContract(ctx, hospital, institute, { maxInvocations: 100 });
});
afterAll(async () => {
  await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true CONNECTION LIMIT -1`);
  await admin.end();
  await ctx.close();
});

const terminate = () => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db]);

async function underOutage(): Promise<void> {
  const calls = [
    () => signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' }),
    () => signed(ctx.app, institute, 'get', '/v1/datasets'),
    () => signed(ctx.app, institute, 'get', `/v1/contracts/${contractId}`),
  ];
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => calls[i % calls.length]!()));
  for (const r of results) {
    expect([r.status, r.body.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
  }
}

async function recovers(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
    if (r.status === 201) return;
    expect(r.status).toBe(503);
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the service did not recover');
}

describe('database outage forms', () => {
  it('ALLOW_CONNECTIONS false with backends terminated: 503, then recovery', async () => {
    await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
    await terminate();
    await underOutage();
    await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
    await recovers();
  });

  it('backends terminated while pooled: no 500 on the next requests', async () => {
    for (let round = 0; round < 3; round++) {
      await terminate();
      const results = await Promise.all(Array.from({ length: 10 }, () => signed(ctx.app, institute, 'get', '/v1/datasets')));
      for (const r of results) expect([200, 503]).toContain(r.status);
      await recovers();
    }
  });
});
