/**
 * The gateway fails closed (hardening, classes 2 and 9): it does not start
 * without knowing whose files it serves, honours only its own provider's
 * tokens (a consumer's insight URL on the hospital's host gains nothing),
 * asks the service before serving so a revocation, withdrawal or suspension
 * stops tokens already issued (and an idempotent retry does not hand the old
 * token back), keeps single use across restarts, and serves nothing when the
 * service cannot be asked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { pino } from 'pino';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract, makeOffer } from '../helpers/scenario.js';
import { listenOnLoopback, selfSignedCertificate } from '../helpers/loopback.js';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import { runTds } from '../../src/cli/tds.js';

let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let served: string;
let cert: string;
let hospital: Actor;
let institute: Actor;
let gateway: Gateway;
const silent = pino({ level: 'silent' });
const PURPOSE = 'DUO:0000006';
const content = 'id,value\n1,2\n';
const credsOf = (a: Actor) => ({ id: a.id, kid: a.kid, privateJwk: a.privateJwk });

function options(over: Partial<GatewayOptions> = {}): GatewayOptions {
  return { dir: served, cert: path.join(tmp, 'cert.pem'), key: path.join(tmp, 'key.pem'), serviceUrl, port: 0, host: '127.0.0.1', providerId: hospital.id, credentials: credsOf(hospital), issuer: ctx.config.audience, stateDir: path.join(tmp, 'state'), logger: silent, ...over };
}

function get(gw: Gateway, file: string, token: string): Promise<{ status: number; code?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: gw.port, path: `/${file}`, method: 'GET', ca: cert, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try { code = (JSON.parse(body) as { code?: string }).code; } catch { code = undefined; }
        resolve({ status: res.statusCode!, code, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function publish(provider: Actor, file: string, kind = 'raw'): Promise<string> {
  const res = await signed(ctx.app, provider, 'post', '/v1/datasets', {
    title: `Data ${file}`, description: 'd', researchField: 'cardiology', kind,
    distribution: { url: `${gateway.url}/${file}`, sha256: createHash('sha256').update(content).digest('hex'), byteSize: content.length, mediaType: 'text/csv' },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function release(consumer: Actor, contractId: string, key?: string): Promise<{ id: string; token: string }> {
  const res = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: PURPOSE }, {}, key ? { 'Idempotency-Key': key } : {});
  expect(res.status).toBe(201);
  return { id: res.body.id, token: res.body.release.token };
}

beforeAll(async () => {
  ctx = await createTestContext();
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-gw-hardening-'));
  served = path.join(tmp, 'served');
  fs.mkdirSync(served);
  selfSignedCertificate(tmp);
  cert = fs.readFileSync(path.join(tmp, 'cert.pem'), 'utf8');
  fs.writeFileSync(path.join(served, 'cohort.csv'), content);
  hospital = await makeParticipant(ctx, ['provider']);
  institute = await makeParticipant(ctx, ['consumer', 'provider']);
  gateway = await startGateway(options());
});
afterAll(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the gateway fails closed', () => {
  it('does not start without its provider, or with another participant\'s credentials', async () => {
    await expect(startGateway(options({ providerId: '' }))).rejects.toThrow(/provider/);
    await expect(startGateway(options({ credentials: credsOf(institute) }))).rejects.toThrow(/credentials/);
    const io = { out: () => undefined, err: (l: string) => void errs.push(l), isTTY: false, prompt: async () => '', env: { TDS_URL: serviceUrl } };
    const errs: string[] = [];
    expect(await runTds(['gateway', '--dir', served, '--cert', path.join(tmp, 'cert.pem'), '--key', path.join(tmp, 'key.pem')], io)).not.toBe(0);
    expect(errs.join('\n')).toMatch(/--provider/);
  });

  it('refuses a consumer\'s insight dataset whose URL names the hospital\'s file on the hospital\'s host', async () => {
    const insight = await publish(institute, 'cohort.csv', 'insight');
    const third = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, institute, third, { offerId: await makeOffer(ctx, institute, insight) });
    const { token } = await release(third, cid);
    const res = await get(gateway, 'cohort.csv', token);
    expect([res.status, res.code]).toEqual([401, 'RELEASE_TOKEN_INVALID']);
    expect(res.body).not.toContain('id,value');
  });
});

describe('revocation reaches issued tokens', () => {
  it.each(['revoke', 'withdraw', 'suspend'] as const)('after %s, an unused token downloads nothing and a retry gets no token', async (action) => {
    const consumer = await makeParticipant(ctx, ['consumer']);
    const dataset = await publish(hospital, 'cohort.csv');
    const cid = await activeContract(ctx, hospital, consumer, { offerId: await makeOffer(ctx, hospital, dataset) });
    const { token } = await release(consumer, cid, `k-${action}`);
    if (action === 'revoke') expect((await signed(ctx.app, hospital, 'post', `/v1/contracts/${cid}/revoke`, { reason: 'consent withdrawn' })).status).toBe(200);
    if (action === 'withdraw') expect((await signed(ctx.app, hospital, 'post', `/v1/datasets/${dataset}/withdraw`)).status).toBe(200);
    if (action === 'suspend') expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${consumer.id}/suspend`)).status).toBe(200);
    const res = await get(gateway, 'cohort.csv', token);
    expect(res.status).toBe(403);
    expect(res.code).toBe({ revoke: 'CONTRACT_REVOKED', withdraw: 'DATASET_WITHDRAWN', suspend: 'PARTICIPANT_SUSPENDED' }[action]);
    expect(res.body).not.toContain('id,value');
    if (action !== 'suspend') {
      const retry = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId: cid, purpose: PURPOSE }, {}, { 'Idempotency-Key': `k-${action}` });
      expect(retry.status).toBe(403);
      expect(retry.body.release).toBeUndefined();
    }
  });

  it('keeps a token single-use across gateway restarts', async () => {
    const consumer = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, hospital, consumer, { offerId: await makeOffer(ctx, hospital, await publish(hospital, 'cohort.csv')) });
    const { token } = await release(consumer, cid);
    const first = await startGateway(options({ stateDir: path.join(tmp, 'restart-state') }));
    expect((await get(first, 'cohort.csv', token)).body).toBe(content);
    await first.close();
    const second = await startGateway(options({ stateDir: path.join(tmp, 'restart-state') }));
    try {
      expect((await get(second, 'cohort.csv', token)).code).toBe('RELEASE_TOKEN_REPLAYED');
    } finally {
      await second.close();
    }
  });

  it('serves nothing when the service cannot be asked', async () => {
    const consumer = await makeParticipant(ctx, ['consumer']);
    const cid = await activeContract(ctx, hospital, consumer, { offerId: await makeOffer(ctx, hospital, await publish(hospital, 'cohort.csv')) });
    const { token } = await release(consumer, cid);
    const jwks = await fetch(`${serviceUrl}/.well-known/jwks.json`).then((r) => r.json());
    // JWKS still known (cached), but the service itself is away: a closed port.
    const cut = await startGateway(options({ serviceUrl: 'http://127.0.0.1:9', fetchJwks: async () => jwks as never, stateDir: path.join(tmp, 'cut-state') }));
    try {
      const res = await get(cut, 'cohort.csv', token);
      expect([res.status, res.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      await cut.close();
    }
    // The token is still unused: the real gateway serves it.
    expect((await get(gateway, 'cohort.csv', token)).body).toBe(content);
  });
});
