/**
 * The small ones (hardening, class 13): data-keyed lookups survive fields
 * named like Object.prototype members, /metrics can be protected or turned
 * off, and HOST chooses the listening interface (checked by loadConfig).
 */
import request from 'supertest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed } from '../helpers/actors.js';
import { loadConfig, ConfigError } from '../../src/config.js';

describe('fields named like Object.prototype members', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('answer standing and rules for constructor, toString, __proto__ and hasOwnProperty', async () => {
    const me = await makeParticipant(ctx, ['consumer', 'provider']);
    for (const field of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const rule = await signed(ctx.app, ctx.operator, 'post', '/v1/reciprocity-rules', { kind: 'give-to-get', researchField: field, datasetKind: 'insight', ratio: 1, allowance: 1 });
      expect([field, rule.status]).toEqual([field, 201]);
      const res = await signed(ctx.app, me, 'get', `/v1/reciprocity/standing?field=${field}`);
      expect([field, res.status]).toEqual([field, 200]);
      expect(res.body).toMatchObject({ researchField: field, mayAccess: true, releases: { receivedFromOthers: 0, givenToOthers: 0 } });
    }
  });
});

describe('/metrics', () => {
  it('is protected by TDS_METRICS_TOKEN when set', async () => {
    const ctx = await createTestContext({ TDS_METRICS_TOKEN: 's3cret-metrics-token' });
    try {
      expect((await request(ctx.app).get('/metrics')).status).toBe(401);
      expect((await request(ctx.app).get('/metrics').set('Authorization', 'Bearer wrong')).status).toBe(401);
      const ok = await request(ctx.app).get('/metrics').set('Authorization', 'Bearer s3cret-metrics-token');
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# HELP');
    } finally {
      await ctx.close();
    }
  });

  it('is not served at all with TDS_METRICS=off', async () => {
    const ctx = await createTestContext({ TDS_METRICS: 'off' });
    try {
      expect((await request(ctx.app).get('/metrics')).status).toBe(404);
    } finally {
      await ctx.close();
    }
  });
});

describe('HOST', () => {
  it('defaults to all interfaces, takes an address, and refuses anything else by name', () => {
    expect(loadConfig({}).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1');
    expect(() => loadConfig({ HOST: 'not a host!' })).toThrow(ConfigError);
    expect(() => loadConfig({ TDS_METRICS: 'sometimes' })).toThrow(/TDS_METRICS/);
    expect(() => loadConfig({ TDS_METRICS_TOKEN: 'short' })).toThrow(/TDS_METRICS_TOKEN/);
  });
});
