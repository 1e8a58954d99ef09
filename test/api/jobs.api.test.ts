import type http from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestContext, countRows, snapshotCounts, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer, publishDataset } from '../helpers/scenario.js';
import { signRequestToken } from '../../src/client/request-token.js';
import { verifyReleaseToken } from '../../src/jobs/release-token.js';
import { releaseBatchAsCaller } from '../../src/jobs/release.store.js';
import { randomUUID } from 'node:crypto';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let server: http.Server;
let base: string;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  ({ server, url: base } = await listenOnLoopback(ctx.app));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await ctx.close();
});

const job = (actor: Actor, contractId: string, purpose = 'DUO:0000006', headers: Record<string, string> = {}) =>
  signed(ctx.app, actor, 'post', '/v1/jobs', { contractId, purpose }, {}, headers);

async function received(participantId: string, field: string): Promise<number> {
  const r = (await ctx.ds.query(`SELECT coalesce(sum(received), 0)::int AS n FROM reciprocity_received WHERE participant_id = $1 AND research_field = $2`, [participantId, field])) as Array<{ n: number }>;
  return r[0]!.n;
}

async function ledgerCount(kind: string, contractId: string): Promise<number> {
  await ctx.services.ledger.flush();
  const r = (await ctx.ds.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE kind = $1 AND subjects @> $2::jsonb`, [kind, JSON.stringify({ contract: contractId })])) as Array<{ n: number }>;
  return r[0]!.n;
}

describe('POST /v1/jobs', () => {
  it('releases with a service-signed token bound to the job, dataset and digest', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 3 });
    const res = await job(institute, cid, 'DUO:0000007');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'authorized', invocationsUsed: 1, invocationsRemaining: 2, release: { url: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), expiresAt: expect.any(String), token: expect.any(String) } });
    const jwks = (await fetch(`${base}/.well-known/jwks.json`).then((r) => r.json())) as { keys: object[] };
    const claims = await verifyReleaseToken(res.body.release.token, jwks as never, { provider: hospital.id });
    expect(claims).toMatchObject({ job: res.body.id, contract: cid, sha256: res.body.release.sha256, provider: hospital.id, sub: res.body.id });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(decodeProtectedHeader(res.body.release.token).typ).toBe('tds-release+jwt');
    expect(await ledgerCount('job.authorized', cid)).toBe(1);
    const c = await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`);
    expect(c.body).toMatchObject({ invocationsUsed: 1, invocationsRemaining: 2 });
    // The job is visible to its parties (token only to the consumer), not to others.
    expect((await signed(ctx.app, hospital, 'get', `/v1/jobs/${res.body.id}`)).body.release.token).toBeUndefined();
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${res.body.id}`)).body.release.token).toBe(res.body.release.token);
    const other = await makeParticipant(ctx, ['consumer']);
    expect((await signed(ctx.app, other, 'get', `/v1/jobs/${res.body.id}`)).body.code).toBe('FORBIDDEN');
    // Completion lands in the ledger once.
    const done = await signed(ctx.app, institute, 'post', `/v1/jobs/${res.body.id}/complete`, { resultDigest: 'a'.repeat(64) });
    expect(done.body).toMatchObject({ state: 'completed', resultDigest: 'a'.repeat(64) });
    expect((await signed(ctx.app, institute, 'post', `/v1/jobs/${res.body.id}/complete`, { resultDigest: 'a'.repeat(64) })).body.code).toBe('INVALID_STATE_TRANSITION');
    expect((await signed(ctx.app, institute, 'post', `/v1/jobs/${res.body.id}/complete`, { resultDigest: 'nope' })).body.code).toBe('VALIDATION_FAILED');
  });

  it('refuses bad bodies with 400 and nothing written', async () => {
    const cid = await activeContract(ctx, hospital, institute);
    for (const body of [{}, { contractId: cid }, { contractId: 'nope', purpose: 'DUO:0000006' }, { contractId: cid, purpose: 6 }, { contractId: cid, purpose: 'DUO:0000006', x: 1 }, [1, 2]]) {
      const before = await snapshotCounts(ctx.ds);
      const res = await signed(ctx.app, institute, 'post', '/v1/jobs', body);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(await snapshotCounts(ctx.ds)).toEqual(before);
    }
    const res = await job(institute, cid, 'DUO:0000006', { 'Idempotency-Key': 'bad key with spaces' });
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect((await job(hospital, cid)).body.code).toBe('ROLE_REQUIRED');
  });

  it('gives each denial its code, records job.denied, and releases nothing', async () => {
    const purposeC = await activeContract(ctx, hospital, institute, { purposes: ['DUO:0000007'] });
    const before = await countRows(ctx.ds, 'jobs');
    const denied = await job(institute, purposeC, 'DUO:0000006');
    expect([denied.status, denied.body.code]).toEqual([403, 'PURPOSE_NOT_ALLOWED']);
    expect((await job(institute, purposeC, 'DUO:0000042')).body.code).toBe('PURPOSE_NOT_ALLOWED');
    expect(await countRows(ctx.ds, 'jobs')).toBe(before);
    expect(await ledgerCount('job.denied', purposeC)).toBe(2);

    const one = await activeContract(ctx, hospital, institute, { maxInvocations: 1 });
    expect((await job(institute, one)).status).toBe(201);
    expect((await job(institute, one)).body.code).toBe('CONTRACT_EXHAUSTED');
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${one}`)).body).toMatchObject({ state: 'exhausted', invocationsRemaining: 0 });
    expect(await ledgerCount('contract.exhausted', one)).toBe(1);

    const outsider = await makeParticipant(ctx, ['consumer']);
    expect((await job(outsider, one)).body.code).toBe('FORBIDDEN');
    expect((await job(institute, '00000000-0000-4000-8000-000000000000')).body.code).toBe('NOT_FOUND');
  });

  it('makes a revocation, a withdrawal, a suspension and an expiry effective for the very next request', async () => {
    const revoked = await activeContract(ctx, hospital, institute);
    expect((await job(institute, revoked)).status).toBe(201);
    await signed(ctx.app, hospital, 'post', `/v1/contracts/${revoked}/revoke`, { reason: 'consent withdrawn' });
    expect((await job(institute, revoked)).body.code).toBe('CONTRACT_REVOKED');

    const d = await publishDataset(ctx, hospital);
    const withdrawn = await activeContract(ctx, hospital, institute, { datasetId: d });
    expect((await job(institute, withdrawn)).status).toBe(201);
    await signed(ctx.app, hospital, 'post', `/v1/datasets/${d}/withdraw`);
    expect((await job(institute, withdrawn)).body.code).toBe('DATASET_WITHDRAWN');

    const prov2 = await makeParticipant(ctx, ['provider']);
    const suspended = await activeContract(ctx, prov2, institute);
    expect((await job(institute, suspended)).status).toBe(201);
    await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${prov2.id}/suspend`);
    expect((await job(institute, suspended)).body.code).toBe('PARTICIPANT_SUSPENDED');

    const expiring = await activeContract(ctx, hospital, institute);
    expect((await job(institute, expiring)).status).toBe(201);
    // Time passes: the window closes (moved in the database; tests never sleep on wall time).
    await ctx.ds.query(`UPDATE contracts SET valid_until = now() - interval '1 second' WHERE id = $1`, [expiring]);
    expect((await job(institute, expiring)).body.code).toBe('CONTRACT_EXPIRED');
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${expiring}`)).body.state).toBe('expired');
    expect(await ctx.services.contracts.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await ledgerCount('contract.expired', expiring)).toBe(1);

    const notYet = await activeContract(ctx, hospital, institute);
    await ctx.ds.query(`UPDATE contracts SET valid_from = now() + interval '1 day' WHERE id = $1`, [notYet]);
    expect((await job(institute, notYet)).body.code).toBe('CONTRACT_NOT_ACTIVE');
    const d2 = await publishDataset(ctx, hospital);
    const o2 = await makeOffer(ctx, hospital, d2);
    const proposed = await signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: o2, purposes: ['DUO:0000006'], maxInvocations: 1 });
    expect((await job(institute, proposed.body.id)).body.code).toBe('CONTRACT_NOT_ACTIVE');
  });

  it('honours Idempotency-Key: the same job, nothing more consumed; a different body is refused', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const first = await job(institute, cid, 'DUO:0000006', { 'Idempotency-Key': 'run-42' });
    const again = await job(institute, cid, 'DUO:0000006', { 'Idempotency-Key': 'run-42' });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    // Concurrent retries with one key also give one job.
    const burst = await Promise.all([1, 2, 3, 4, 5].map(() => job(institute, cid, 'DUO:0000006', { 'Idempotency-Key': 'run-43' })));
    expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
    expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`)).body.invocationsUsed).toBe(2);
    expect((await job(institute, cid, 'DUO:0000007', { 'Idempotency-Key': 'run-42' })).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The description is part of the body: another one under the key is another request.
    const described = (description?: string) => signed(ctx.app, institute, 'post', '/v1/jobs', { contractId: cid, purpose: 'DUO:0000006', ...(description === undefined ? {} : { description }) }, {}, { 'Idempotency-Key': 'run-44' });
    const withText = await described('cohort A');
    expect(withText.status).toBe(201);
    expect((await described('cohort A')).body.id).toBe(withText.body.id);
    for (const other of ['cohort B', undefined]) expect((await described(other)).body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await job(institute, cid, 'DUO:0000006', { 'Idempotency-Key': 'run-42' })).body.id).toBe(first.body.id);
  });

  it('releases nothing when the ledger append or the count update fails', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    await ctx.ds.query(`CREATE FUNCTION fail_job_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.kind = 'job.authorized' THEN RAISE EXCEPTION 'forced ledger failure'; END IF; RETURN NEW; END $$`);
    await ctx.ds.query(`CREATE TRIGGER fail_job_ledger BEFORE INSERT ON ledger_queue FOR EACH ROW EXECUTE FUNCTION fail_job_ledger()`);
    try {
      const before = await countRows(ctx.ds, 'jobs');
      const res = await job(institute, cid);
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('INTERNAL');
      expect(await countRows(ctx.ds, 'jobs')).toBe(before);
      expect((await signed(ctx.app, institute, 'get', `/v1/contracts/${cid}`)).body.invocationsUsed).toBe(0);
    } finally {
      await ctx.ds.query('DROP TRIGGER fail_job_ledger ON ledger_queue; DROP FUNCTION fail_job_ledger()');
    }
    await ctx.ds.query(`CREATE FUNCTION fail_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced count failure'; END $$`);
    await ctx.ds.query(`CREATE TRIGGER fail_count BEFORE UPDATE ON contracts FOR EACH ROW EXECUTE FUNCTION fail_count()`);
    try {
      const before = await countRows(ctx.ds, 'jobs');
      const res = await job(institute, cid);
      expect(res.status).toBe(500);
      expect(await countRows(ctx.ds, 'jobs')).toBe(before);
      expect(await ledgerCount('job.authorized', cid)).toBe(0);
    } finally {
      await ctx.ds.query('DROP TRIGGER fail_count ON contracts; DROP FUNCTION fail_count()');
    }
    expect((await job(institute, cid)).status).toBe(201);
  });
});

describe('exactly k under concurrency', () => {
  it('200 simultaneous requests against 10 remaining release exactly 10, 20 rounds', async () => {
    const batchesBefore = ctx.services.jobs.callerReleases.stats.batches;
    for (let round = 0; round < 20; round++) {
      const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 10 });
      // Tokens are signed before the burst so the requests really overlap.
      const tokens = await Promise.all(Array.from({ length: 200 }, () => signRequestToken(institute, 'POST', '/v1/jobs')));
      const results = await Promise.all(
        tokens.map((t) =>
          fetch(`${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ contractId: cid, purpose: 'DUO:0000006' }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
        ),
      );
      const ok = results.filter((r) => r.status === 201).length;
      const exhausted = results.filter((r) => r.status === 403 && r.body.code === 'CONTRACT_EXHAUSTED').length;
      expect({ round, ok, exhausted }).toEqual({ round, ok: 10, exhausted: 190 });
      expect(await ledgerCount('job.authorized', cid)).toBe(10);
      const row = (await ctx.ds.query('SELECT invocations_used, state FROM contracts WHERE id = $1', [cid])) as Array<{ invocations_used: number; state: string }>;
      expect(row[0]).toEqual({ invocations_used: 10, state: 'exhausted' });
      expect(decodeJwt(tokens[0]!).htu).toBe('/v1/jobs');
    }
    // The bursts queued behind busy statements, so most of these went through batched statements.
    expect(ctx.services.jobs.callerReleases.stats.batches).toBeGreaterThan(batchesBefore);
    // 4,000 requests: 14-27 s alone on two cores, once over 60 s beside other suites. The limit only
    // catches a hang; what the test asserts is the counts.
  }, 180_000);
});

describe('batched authorizations', () => {
  // RELEASE_AS_CALLER's 17 values for one request by `consumer` on `contractId`.
  const requestValues = (contractId: string, consumer: Actor, field: string, o: { jti?: string; idem?: string } = {}) => {
    const jobId = randomUUID();
    const subjects = { job: jobId, contract: contractId, consumer: consumer.id };
    return {
      jobId,
      values: [
        contractId, consumer.id, jobId, field, 'DUO:0000006', o.idem ?? null, 'd'.repeat(64),
        { token: 't', url: 'https://data.hospital.example/x.csv', sha256: 'a'.repeat(64), byteSize: 1, mediaType: 'text/csv', expiresAt: new Date().toISOString(), jti: randomUUID() },
        subjects, { purpose: 'DUO:0000006' }, 'authorized', 'download', null, null,
        o.jti ?? randomUUID(), new Date(Date.now() + 300_000), consumer.kid,
      ],
    };
  };

  it('one statement decides each request as it would alone: replayed jti, used Idempotency-Key, exactly the invocations left', async () => {
    const scarce = await activeContract(ctx, hospital, institute, { maxInvocations: 2 });
    const plenty = await activeContract(ctx, hospital, institute, { maxInvocations: 100 });
    const prior = await job(institute, plenty, 'DUO:0000006', { 'idempotency-key': 'batch-prior' });
    expect(prior.status).toBe(201);
    const [{ research_field: field }] = (await ctx.ds.query('SELECT d.research_field FROM contracts c JOIN datasets d ON d.id = c.dataset_id WHERE c.id = $1', [scarce])) as Array<{ research_field: string }>;
    const receivedBefore = await received(institute.id, field);
    const jti = randomUUID();
    const requests = [
      requestValues(scarce, institute, field), // 0: invocation 1 of 2
      requestValues(plenty, institute, field, { jti }), // 1: released (invocation 2 of plenty)
      requestValues(scarce, institute, field), // 2: invocation 2 of 2, exhausts
      requestValues(plenty, institute, field, { jti }), // 3: same jti as 1: not fresh
      requestValues(scarce, institute, field), // 4: nothing left
      requestValues(plenty, institute, field, { idem: 'batch-prior' }), // 5: the key was used
    ];
    const rows = await releaseBatchAsCaller(ctx.ds, requests.map((r) => r.values));
    expect(rows.map((r) => ({ fresh: r.fresh, prior: r.prior, ruled: r.ruled, used: r.invocations_used, released: r.created_at !== null }))).toEqual([
      { fresh: true, prior: false, ruled: false, used: 1, released: true },
      { fresh: true, prior: false, ruled: false, used: 2, released: true },
      { fresh: true, prior: false, ruled: false, used: 2, released: true },
      { fresh: false, prior: false, ruled: false, used: null, released: false },
      { fresh: true, prior: false, ruled: false, used: null, released: false },
      { fresh: true, prior: true, ruled: false, used: null, released: false },
    ]);
    expect(rows[0]).toMatchObject({ status: 'active', revoked_at: null, roles: ['consumer'] });
    const counts = (await ctx.ds.query('SELECT id, invocations_used, state FROM contracts WHERE id = ANY($1)', [[scarce, plenty]])) as Array<{ id: string; invocations_used: number; state: string }>;
    expect(Object.fromEntries(counts.map((c) => [c.id, [c.invocations_used, c.state]]))).toEqual({ [scarce]: [2, 'exhausted'], [plenty]: [2, 'active'] });
    // Jobs exist for exactly the released requests.
    const jobs = (await ctx.ds.query('SELECT id FROM jobs WHERE id = ANY($1)', [requests.map((r) => r.jobId)])) as Array<{ id: string }>;
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set([requests[0]!.jobId, requests[1]!.jobId, requests[2]!.jobId]));
    // Ledger: the released jobs in request order, contract.exhausted right after the job that used the last invocation.
    await ctx.services.ledger.flush();
    const entries = (await ctx.ds.query(
      `SELECT kind, subjects->>'job' AS job, (entry::jsonb #>> '{data,invocation}')::int AS invocation, (entry::jsonb #>> '{data,invocationsUsed}')::int AS used FROM ledger_entries
        WHERE subjects->>'contract' = ANY($1) AND kind IN ('job.authorized', 'contract.exhausted') AND (subjects->>'job' IS NULL OR subjects->>'job' = ANY($2)) ORDER BY idx`,
      [[scarce, plenty], requests.map((r) => r.jobId)],
    )) as Array<{ kind: string; job: string | null; invocation: number | null; used: number | null }>;
    expect(entries).toEqual([
      { kind: 'job.authorized', job: requests[0]!.jobId, invocation: 1, used: null },
      { kind: 'job.authorized', job: requests[1]!.jobId, invocation: 2, used: null },
      { kind: 'job.authorized', job: requests[2]!.jobId, invocation: 2, used: null },
      { kind: 'contract.exhausted', job: null, invocation: null, used: 2 },
    ]);
    // What the consumer received grew by what was released; every token id is recorded once.
    expect(await received(institute.id, field)).toBe(receivedBefore + 3);
    const tokens = (await ctx.ds.query('SELECT count(*)::int AS n FROM used_tokens WHERE jti = ANY($1)', [requests.map((r) => r.values[14])])) as Array<{ n: number }>;
    expect(tokens[0]!.n).toBe(5);
  });

  it('two requests with the same Idempotency-Key fail the batch whole: nothing written', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 5 });
    const field = 'oncology';
    const requests = [requestValues(cid, institute, field, { idem: 'twice' }), requestValues(cid, institute, field, { idem: 'twice' })];
    const before = await snapshotCounts(ctx.ds);
    await expect(releaseBatchAsCaller(ctx.ds, requests.map((r) => r.values))).rejects.toMatchObject({ code: '23505', constraint: 'jobs_idempotency' });
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });
});

describe('a job names its contract\'s parties and dataset', () => {
  it('the schema refuses a job row whose consumer, provider or dataset is not its contract\'s', async () => {
    const cid = await activeContract(ctx, hospital, institute, { maxInvocations: 3 });
    const res = await job(institute, cid);
    expect(res.status).toBe(201);
    const other = await makeParticipant(ctx, ['consumer']);
    const otherDataset = await publishDataset(ctx, hospital);
    // A copy of the released job under a new id, with `column` replaced by `value` (all else as released).
    const copy = (column?: 'consumer_id' | 'provider_id' | 'dataset_id', value?: string) => {
      const pick = (c: string) => (c === column ? '$2::uuid' : c);
      return ctx.ds.query(
        `INSERT INTO jobs (id, contract_id, consumer_id, provider_id, dataset_id, research_field, purpose, state, release, access)
         SELECT gen_random_uuid(), contract_id, ${pick('consumer_id')}, ${pick('provider_id')}, ${pick('dataset_id')}, research_field, purpose, state, release, access
           FROM jobs WHERE id = $1`,
        column ? [res.body.id, value] : [res.body.id],
      );
    };
    const before = await countRows(ctx.ds, 'jobs');
    for (const [column, value] of [['consumer_id', other.id], ['provider_id', other.id], ['dataset_id', otherDataset]] as const) {
      await expect(copy(column, value)).rejects.toMatchObject({ driverError: { code: '23503', constraint: 'jobs_contract_parties_fkey' } });
    }
    expect(await countRows(ctx.ds, 'jobs')).toBe(before);
    // The unchanged copy is accepted: the key compares with the contract's own values, nothing else.
    await copy();
    expect(await countRows(ctx.ds, 'jobs')).toBe(before + 1);
  });
});
