/**
 * Replay refusal across service processes. Two apps on one database stand
 * for two service processes (each app has its own memory, as a process
 * does): a write's token is recorded durably, so a replay is refused by every
 * process; a read-only request's token is held in its process's memory
 * (README, "Security"), so a replay is refused by that process, and by every
 * process with TDS_READ_TOKEN_REPLAY=durable.
 */
import request from 'supertest';
import type { Express } from 'express';
import { createTestContext, countRows, type TestContext } from '../helpers/context.js';
import { makeParticipant, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { signRequestToken } from '../../src/client/request-token.js';
import { buildApp } from '../../src/app.js';
import { loadSchemas } from '../../src/http/validation.js';
import { loadConfig } from '../../src/config.js';
import { pino } from 'pino';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;

/** Another "process": a second app on the same database and services, with its own memory. */
function secondProcess(env: Record<string, string> = {}): Express {
  const config = loadConfig({ DATABASE_URL: ctx.databaseUrl, TDS_DATA_DIR: ctx.dataDir, TDS_DEV_MODE: 'true', LOG_LEVEL: 'silent', ...env });
  return buildApp({ config, ds: ctx.ds, logger: pino({ level: 'silent' }), keys: ctx.keys, schemas: loadSchemas(), services: ctx.services });
}

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
});
afterAll(() => ctx.close());

const post = (app: Express, token: string, body: unknown) => request(app).post('/v1/jobs').set('Authorization', `Bearer ${token}`).send(body as object);

describe('write tokens: refused in every process', () => {
  it('refuses a replayed POST /v1/jobs in another process and counts nothing more', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const other = secondProcess();
    const token = await signRequestToken(institute, 'POST', '/v1/jobs');
    expect((await post(ctx.app, token, { contractId: cid, purpose: 'DUO:0000006' })).status).toBe(201);
    for (const app of [ctx.app, other]) {
      const res = await post(app, token, { contractId: cid, purpose: 'DUO:0000006' });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
    }
    const row = (await ctx.ds.query('SELECT invocations_used FROM contracts WHERE id = $1', [cid])) as Array<{ invocations_used: number }>;
    expect(row[0]!.invocations_used).toBe(1);
  });

  it('records the token of a refused or invalid job request too', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const other = secondProcess();
    for (const body of [{ contractId: cid, purpose: 'DUO:0000042' }, { contractId: cid }, { contractId: '00000000-0000-4000-8000-000000000000', purpose: 'DUO:0000006' }]) {
      const token = await signRequestToken(institute, 'POST', '/v1/jobs');
      const first = await post(ctx.app, token, body);
      expect([400, 403, 404]).toContain(first.status);
      const again = await post(other, token, { contractId: cid, purpose: 'DUO:0000006' });
      expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
    }
  });

  it('releases once when the same token races through two processes', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 50 });
    const other = secondProcess();
    const jobsBefore = await countRows(ctx.ds, 'jobs');
    const token = await signRequestToken(institute, 'POST', '/v1/jobs');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? other : ctx.app, token, { contractId: cid, purpose: 'DUO:0000006' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401 && r.body.code === 'TOKEN_REPLAYED')).toHaveLength(19);
    expect(await countRows(ctx.ds, 'jobs')).toBe(jobsBefore + 1);
  });

  it('refuses a replayed write on any other route in another process', async () => {
    const other = secondProcess();
    const path = `/v1/participants/${ctx.operator.iss}/suspend`;
    const token = await signRequestToken(institute, 'POST', path);
    // Not the operator: refused, but the token is used.
    expect((await request(ctx.app).post(path).set('Authorization', `Bearer ${token}`)).status).toBe(403);
    const again = await request(other).post(path).set('Authorization', `Bearer ${token}`);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
  });
});

describe('read-only tokens', () => {
  const path = () => `/v1/participants/${institute.id}`;
  const get = (app: Express, token: string) => request(app).get(path()).set('Authorization', `Bearer ${token}`);

  it('refuses a replayed GET in the same process, without writing a token record', async () => {
    const token = await signRequestToken(institute, 'GET', path());
    const before = await countRows(ctx.ds, 'used_tokens');
    expect((await get(ctx.app, token)).status).toBe(200);
    const again = await get(ctx.app, token);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
    expect(await countRows(ctx.ds, 'used_tokens')).toBe(before);
  });

  it('by default, another process does not know a GET token used elsewhere (the documented trade-off)', async () => {
    const token = await signRequestToken(institute, 'GET', path());
    expect((await get(ctx.app, token)).status).toBe(200);
    expect((await get(secondProcess(), token)).status).toBe(200);
  });

  it('with TDS_READ_TOKEN_REPLAY=durable, a replayed GET is refused by every process', async () => {
    const a = secondProcess({ TDS_READ_TOKEN_REPLAY: 'durable' });
    const b = secondProcess({ TDS_READ_TOKEN_REPLAY: 'durable' });
    const token = await signRequestToken(institute, 'GET', path());
    expect((await get(a, token)).status).toBe(200);
    for (const app of [a, b]) {
      const res = await get(app, token);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'TOKEN_REPLAYED' });
    }
  });

  it('still refuses a suspended caller and a rotated key on a GET', async () => {
    const bob = await makeParticipant(ctx, ['consumer']);
    expect((await request(ctx.app).post(`/v1/participants/${bob.id}/suspend`).set('Authorization', `Bearer ${await signRequestToken(ctx.operator, 'POST', `/v1/participants/${bob.id}/suspend`)}`)).status).toBe(200);
    const res = await request(ctx.app).get(`/v1/participants/${bob.id}`).set('Authorization', `Bearer ${await signRequestToken(bob, 'GET', `/v1/participants/${bob.id}`)}`);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'PARTICIPANT_NOT_ACTIVE' });
  });
});
