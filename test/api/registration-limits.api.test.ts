/**
 * Unauthenticated registration is bounded (hardening, class 5): per source
 * address and globally (429 RATE_LIMITED with Retry-After), a cap on pending
 * registrations, pending participants hidden from the directory for
 * non-operators, and names with bidirectional overrides or invisible
 * characters refused.
 */
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, register, signed } from '../helpers/actors.js';

describe('registration rate limits', () => {
  it('answers 429 with Retry-After once one address exceeds its rate, writing nothing', async () => {
    const ctx = await createTestContext({ TDS_REGISTRATIONS_PER_MINUTE_PER_ADDRESS: '5', TDS_REGISTRATIONS_PER_MINUTE: '1000' });
    try {
      const results = [];
      for (let i = 0; i < 8; i++) results.push((await register(ctx.app, { name: `Flood ${i}`, roles: ['consumer'] })).res);
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
      const limited = results[5]!;
      expect(limited.body.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      const before = await snapshotCounts(ctx.ds);
      expect((await register(ctx.app, { name: 'One more', roles: ['consumer'] })).res.status).toBe(429);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    } finally {
      await ctx.close();
    }
  });

  it('caps pending registrations', async () => {
    const ctx = await createTestContext({ TDS_MAX_PENDING_PARTICIPANTS: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await register(ctx.app, { name: `Pending ${i}`, roles: ['consumer'] })).res.status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
    } finally {
      await ctx.close();
    }
  });
});

describe('the directory and names', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  it('hides pending participants from non-operators', async () => {
    const { res } = await register(ctx.app, { name: 'Still pending', roles: ['consumer'] });
    const pendingId = res.body.id as string;
    const member = await makeParticipant(ctx, ['consumer']);
    const list = await signed(ctx.app, member, 'get', '/v1/participants?limit=200');
    expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(pendingId);
    expect((await signed(ctx.app, member, 'get', '/v1/participants?status=pending')).body.items).toEqual([]);
    expect((await signed(ctx.app, member, 'get', `/v1/participants/${pendingId}`)).status).toBe(404);
    const asOperator = await signed(ctx.app, ctx.operator, 'get', '/v1/participants?status=pending');
    expect(asOperator.body.items.map((p: { id: string }) => p.id)).toContain(pendingId);
  });

  it('refuses names with bidirectional overrides or invisible characters', async () => {
    for (const name of ['St. Mary\u202eLATIPSOH', 'Lab\u200b', 'A\u2066B\u2069', 'x\u0007', '\ufeffClinic']) {
      const before = await snapshotCounts(ctx.ds);
      const { res } = await register(ctx.app, { name, roles: ['consumer'] });
      expect([JSON.stringify(name), res.status, res.body.code]).toEqual([JSON.stringify(name), 400, 'VALIDATION_FAILED']);
      expect(res.body.errors[0].pointer).toBe('/name');
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
    expect((await register(ctx.app, { name: 'Zürich Universitätsspital 🏥', roles: ['consumer'] })).res.status).toBe(201);
  });
});
