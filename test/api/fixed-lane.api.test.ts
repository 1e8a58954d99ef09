/**
 * POST /v1/jobs runs in a fixed lane (src/http/fixed-lane.ts) that skips the
 * routers' search: the same request spelt so that the lane does not match it
 * (a trailing slash) takes the routers. Both must answer alike, every refusal
 * included, and the lane must still count in the request metrics.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import request from 'supertest';
import { createTestContext, snapshotCounts, type TestContext } from '../helpers/context.js';
import { makeParticipant, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { signRequestToken } from '../../src/client/request-token.js';
import { listenOnLoopback } from '../helpers/loopback.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let contractId: string;
let roomyContractId: string;
let loopback: http.Server;
let loopbackUrl: string;

beforeAll(async () => {
  ctx = await createTestContext();
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer']);
  contractId = await activeContract(ctx, hospital, institute, { maxInvocations: 10 });
  roomyContractId = await activeContract(ctx, hospital, institute, { maxInvocations: 100 });
  ({ server: loopback, url: loopbackUrl } = await listenOnLoopback(ctx.app));
});
afterAll(async () => {
  await new Promise((resolve) => loopback.close(resolve));
  await ctx.close();
});

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

  // The lane reads the common body itself (src/http/plain-json-body.ts) and hands the rest to body-parser,
  // which the routers use: every spelling of a body must get the same answer both ways. Sent as raw bytes
  // over a real connection (supertest would re-encode a Buffer body as JSON).
  const body = (): Buffer => Buffer.from(JSON.stringify({ contractId: roomyContractId, purpose: 'DUO:0000006' }));
  const bytes = (...parts: Array<number[] | string | Buffer>): Buffer => Buffer.concat(parts.map((p) => (Array.isArray(p) ? Buffer.from(p) : Buffer.from(p))));
  const BOM = [0xef, 0xbb, 0xbf];
  const JSON_TYPE = { 'content-type': 'application/json' };
  const bodies: Array<[string, Record<string, string>, () => Buffer, number, string | undefined]> = [
    ['a plain body', JSON_TYPE, body, 201, undefined],
    ['charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }, body, 201, undefined],
    ['charset="UTF-8" without a space', { 'content-type': 'Application/JSON;charset="UTF-8"' }, body, 201, undefined],
    ['a leading byte order mark', JSON_TYPE, () => bytes(BOM, body()), 201, undefined],
    ['leading and trailing whitespace', JSON_TYPE, () => bytes(' \r\n\t', body(), '\n '), 201, undefined],
    ['a gzip body (body-parser inflates it)', { ...JSON_TYPE, 'content-encoding': 'gzip' }, () => zlib.gzipSync(body()), 201, undefined],
    ['an application/*+json type', { 'content-type': 'application/vnd.tds+json' }, body, 201, undefined],
    ['a JSON string', JSON_TYPE, () => bytes('"DUO:0000006"'), 400, 'MALFORMED_JSON'],
    ['null', JSON_TYPE, () => bytes('null'), 400, 'MALFORMED_JSON'],
    ['whitespace only', JSON_TYPE, () => bytes('  \n '), 400, 'MALFORMED_JSON'],
    ['two byte order marks', JSON_TYPE, () => bytes(BOM, BOM, body()), 400, 'MALFORMED_JSON'],
    ['an array', JSON_TYPE, () => bytes('[]'), 400, 'VALIDATION_FAILED'],
    ['an empty body', JSON_TYPE, () => bytes(''), 400, 'VALIDATION_FAILED'],
    ['invalid UTF-8 in a value', JSON_TYPE, () => bytes('{"contractId":"', [0xc3, 0x28, 0xff], '","purpose":"DUO:0000006"}'), 400, 'VALIDATION_FAILED'],
    ['a latin1 charset', { 'content-type': 'application/json; charset=latin1' }, body, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown content encoding', { ...JSON_TYPE, 'content-encoding': 'x-unknown' }, body, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body one byte over the limit', JSON_TYPE, () => bytes(`{"pad":"${'x'.repeat(256 * 1024 - 9)}"}`), 413, 'PAYLOAD_TOO_LARGE'],
  ];
  it.each(bodies)('answers %s alike in the lane and through the routers', async (_what, headers, make, status, code) => {
    const viaLane = await rawPost(LANE, headers, [make()]);
    const viaRouter = await rawPost(ROUTER, headers, [make()]);
    expect(viaLane.seen).toEqual([status, code, status === 201 ? 'application/json' : 'application/problem+json']);
    expect(viaRouter.seen).toEqual(viaLane.seen);
    if (status === 201) expect([viaLane.body.purpose, viaRouter.body.purpose]).toEqual(['DUO:0000006', 'DUO:0000006']);
  });

  it('reads a body that arrives in several pieces', async () => {
    const text = body();
    const { seen: answer } = await rawPost(LANE, JSON_TYPE, [text.subarray(0, 7), text.subarray(7)]);
    expect(answer).toEqual([201, undefined, 'application/json']);
  });
});

/** POST raw bytes (in the given pieces, 20 ms apart) as the institute over a real connection; what the client sees, and the parsed body. */
async function rawPost(path: string, headers: Record<string, string>, pieces: Buffer[]): Promise<{ seen: ReturnType<typeof seen>; body: Record<string, unknown> }> {
  const token = await signRequestToken(institute, 'POST', path);
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = http.request(`${loopbackUrl}${path}`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}`, 'content-length': String(length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        resolve({ seen: [res.statusCode ?? 0, body.code as string | undefined, res.headers['content-type']?.split(';')[0]], body });
      });
    });
    req.on('error', reject);
    const send = (i: number): void => {
      if (i === pieces.length - 1) req.end(pieces[i]);
      else {
        req.write(pieces[i]);
        setTimeout(() => send(i + 1), 20);
      }
    };
    send(0);
  });
}
