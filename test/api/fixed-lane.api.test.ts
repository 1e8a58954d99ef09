/**
 * POST /v1/jobs runs in a fixed lane (src/http/fixed-lane.ts) that skips the
 * routers' search: the same request spelt so that the lane does not match it
 * (a trailing slash) takes the routers. Both must answer alike, every refusal
 * included, and the lane must still count in the request metrics.
 */
import request from 'supertest';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { signRequestToken } from '../../src/client/request-token.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let contractId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  contractId = await activeContract(ctx, hospital, institute, { maxInvocations: 10 });
});
afterAll(() => ctx.close());

const LANE = '/v1/jobs';
const ROUTER = '/v1/jobs/';

/** What a client sees of an answer: status, problem code, media type. */
function seen(res: request.Response): [number, string | undefined, string | undefined] {
  return [res.status, res.body?.code as string | undefined, res.headers['content-type']?.split(';')[0]];
}

async function post(path: string, actor: Actor | null, send: (r: request.Test) => request.Test): Promise<request.Response> {
  const r = request(ctx.app).post(path);
  if (actor) r.set('Authorization', `Bearer ${await signRequestToken(actor, 'POST', path)}`);
  return send(r);
}

describe('the POST /v1/jobs fixed lane', () => {
  const refusals: Array<[string, Actor | null | 'institute' | 'hospital', (r: request.Test) => request.Test, number, string]> = [
    ['no token', null, (r) => r.send({ contractId: 'x', purpose: 'DUO:0000006' }), 401, 'AUTH_REQUIRED'],
    ['malformed JSON', 'institute', (r) => r.set('Content-Type', 'application/json').send('{"contractId":'), 400, 'MALFORMED_JSON'],
    // The body is checked before the token, in both.
    ['malformed JSON without a token', null, (r) => r.set('Content-Type', 'application/json').send('{"contractId":'), 400, 'MALFORMED_JSON'],
    ['a text body without a token', null, (r) => r.set('Content-Type', 'text/plain').send('hello'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a text body', 'institute', (r) => r.set('Content-Type', 'text/plain').send('hello'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body over the limit', 'institute', (r) => r.set('Content-Type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(300 * 1024) })), 413, 'PAYLOAD_TOO_LARGE'],
    ['NUL in the body', 'institute', (r) => r.send({ contractId: 'a\u0000b', purpose: 'DUO:0000006' }), 400, 'VALIDATION_FAILED'],
    ['a body off the schema', 'institute', (r) => r.send({ contractId, purpose: 'DUO:0000006', colour: 'red' }), 400, 'VALIDATION_FAILED'],
    ['a bad Idempotency-Key', 'institute', (r) => r.set('Idempotency-Key', 'has space').send({ contractId, purpose: 'DUO:0000006' }), 400, 'VALIDATION_FAILED'],
    ['a provider', 'hospital', (r) => r.send({ contractId, purpose: 'DUO:0000006' }), 403, 'ROLE_REQUIRED'],
  ];
  it.each(refusals)('refuses %s alike in the lane and through the routers, with nothing written', async (_what, who, send, status, code) => {
    const actor = who === 'institute' ? institute : who === 'hospital' ? hospital : who;
    const before = await snapshotCounts(ctx.ds);
    const viaLane = await post(LANE, actor, send);
    const viaRouter = await post(ROUTER, actor, send);
    expect(seen(viaLane)).toEqual([status, code, 'application/problem+json']);
    expect(seen(viaRouter)).toEqual(seen(viaLane));
    // A refused request writes no job and no ledger entry.
    expect(await snapshotCounts(ctx.ds)).toEqual(before);
  });

  it('refuses a replayed token in the lane', async () => {
    const token = await signRequestToken(institute, 'POST', LANE);
    const first = await request(ctx.app).post(LANE).set('Authorization', `Bearer ${token}`).send({ contractId, purpose: 'DUO:0000006' });
    const again = await request(ctx.app).post(LANE).set('Authorization', `Bearer ${token}`).send({ contractId, purpose: 'DUO:0000006' });
    expect(first.status).toBe(201);
    expect(seen(again)).toEqual([401, 'TOKEN_REPLAYED', 'application/problem+json']);
  });

  it('authorizes through both, counts both invocations, and labels the lane in the metrics', async () => {
    const viaLane = await post(LANE, institute, (r) => r.send({ contractId, purpose: 'DUO:0000006' }));
    const viaRouter = await post(ROUTER, institute, (r) => r.send({ contractId, purpose: 'DUO:0000006' }));
    expect([viaLane.status, viaRouter.status]).toEqual([201, 201]);
    expect(viaLane.headers.location).toBe(`/v1/jobs/${viaLane.body.id}`);
    expect(Object.keys(viaRouter.body).sort()).toEqual(Object.keys(viaLane.body).sort());
    expect(viaRouter.body.invocationsUsed).toBe(viaLane.body.invocationsUsed + 1);
    const metrics = await request(ctx.app).get('/metrics');
    expect(metrics.text).toMatch(/tds_http_requests_total\{method="POST",route="\/v1\/jobs",status="201"\} [1-9]/);
    expect(metrics.text).toMatch(/tds_http_requests_total\{method="POST",route="\/v1\/jobs",status="415"\} [1-9]/);
  });
});
