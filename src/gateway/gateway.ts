/**
 * The provider's download gateway (`tds gateway`): an HTTPS server that hands
 * the files of one folder only to holders of a valid release token. It fails
 * closed: it does not start without knowing whose files it serves (the
 * provider id, from its credentials), and a token is honoured only when
 * - it verifies against the service's published JWKS (jose's remote JWKS
 *   set: cached, refetched on an unknown kid after a cooldown, fetched
 *   through node:https so a private CA can be trusted),
 * - it is for this provider and names this request's file,
 * - the service, asked as the provider just before serving, says the release
 *   still stands (not revoked, dataset not withdrawn, no party suspended;
 *   unreachable service: 503, nothing served),
 * - its jti was never served, by this process or an earlier one (the used
 *   jtis are flushed to the state directory before the first byte).
 * Every serve and every refusal is logged, so the hospital has its own
 * record next to the service's ledger.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createRemoteJWKSet, customFetch, type JSONWebKeySet } from 'jose';
import { verifyReleaseToken } from '../jobs/release-token.js';
import { httpGet, pemOrFile, readBody } from '../client/tds-client.js';
import type { Credentials } from '../client/credentials.js';
import { signRequestToken } from '../client/request-token.js';
import { UsedTokens } from './used-tokens.js';

/** The logger calls the gateway makes (pino fits). */
export type GatewayLogger = Pick<Logger, 'info' | 'warn'>;

/** Settings of a gateway; cert, key and ca are PEM text or paths to PEM files. */
export interface GatewayOptions {
  dir: string;
  cert: string;
  key: string;
  serviceUrl: string;
  port?: number;
  host?: string;
  /** Only tokens whose provider (audience) is this participant are honoured (required: the gateway fails closed). */
  providerId: string;
  /** The provider's participant credentials: the release-status check is signed with them; id must be providerId. */
  credentials: Credentials;
  /** Where the used release-token ids are kept across restarts (default DIR/.tds-gateway, never served: dot-files are refused). */
  stateDir?: string;
  /** Expected token issuer and the audience of the gateway's own requests: the service's audience (default tds). */
  issuer?: string;
  /** CA certificate(s) to trust for the service's HTTPS (JWKS fetch). */
  ca?: string;
  fetchJwks?: () => Promise<JSONWebKeySet>;
  logger?: GatewayLogger;
  jwksTtlMs?: number;
  /** Least age of the cached JWKS before an unknown kid may trigger a refetch (bounds fetches forced by junk tokens). */
  jwksMinRefreshMs?: number;
}

/** A running gateway. */
export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The file name a request path maps to, or null when the path is not exactly
 * one plain segment: no `..`, no dot-files, no (encoded) slashes or
 * backslashes, no NUL. Decided on the raw path, before any normalisation
 * could turn `/a/../b` into `/b`.
 */
export function fileNameOf(rawUrl: string | undefined): string | null {
  const raw = (rawUrl ?? '').split(/[?#]/)[0]!;
  if (!/^\/[^/\\]+$/.test(raw)) return null;
  let name: string;
  try {
    name = decodeURIComponent(raw.slice(1));
  } catch {
    return null;
  }
  if (name === '' || name.length > 255 || name.startsWith('.') || /[/\\\0]/.test(name) || path.basename(name) !== name) return null;
  return name;
}

/** Fetch `${serviceUrl}/.well-known/jwks.json`, trusting `ca` when given. */
export async function fetchServiceJwks(serviceUrl: string, ca?: string): Promise<JSONWebKeySet> {
  const res = await httpGet(`${serviceUrl.replace(/\/+$/, '')}/.well-known/jwks.json`, { ca, timeoutMs: 10_000 });
  const text = await readBody(res);
  if (res.statusCode !== 200) throw new Error(`JWKS answered ${res.statusCode}`);
  const jwks = JSON.parse(text) as JSONWebKeySet;
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('JWKS has no keys array');
  return jwks;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

function refuseToken(e: unknown): Refusal {
  const code = (e as { code?: string }).code;
  if (code === 'ERR_JWT_EXPIRED') return new Refusal(401, 'RELEASE_TOKEN_EXPIRED', 'the release token has expired');
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (e as { claim?: string }).claim === 'aud') return new Refusal(401, 'RELEASE_TOKEN_INVALID', 'the release token is for another provider');
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return new Refusal(401, 'RELEASE_TOKEN_INVALID', 'the release token is signed by a key the service does not publish');
  // Not a verdict on the token: the keys could not be fetched (network error, timeout, bad JWKS).
  if (!code?.startsWith('ERR_JW') || code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID') {
    return new Refusal(503, 'JWKS_UNAVAILABLE', `cannot fetch the service's keys: ${(e as Error).message}`);
  }
  return new Refusal(401, 'RELEASE_TOKEN_INVALID', `the release token is not valid${code ? ` (${code})` : ''}`);
}

function sendProblem(res: ServerResponse, r: Refusal): void {
  const body = JSON.stringify({ type: 'about:blank', title: r.code, status: r.status, detail: r.message, code: r.code });
  res.writeHead(r.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Start the gateway; resolves once it listens. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const dir = fs.realpathSync(opts.dir);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${opts.dir} is not a directory`);
  if (!opts.providerId) throw new Error('the gateway needs the provider it serves for (--provider or the id in --credentials): it will not serve tokens of any provider');
  if (opts.credentials?.id !== opts.providerId) throw new Error(`the credentials are not the provider's (${opts.credentials?.id ?? 'no id'} vs ${opts.providerId}): the gateway asks the service as the provider`);
  const logger = opts.logger ?? pino({ name: 'tds-gateway' });
  const ca = opts.ca ? pemOrFile(opts.ca) : undefined;
  const serviceUrl = opts.serviceUrl.replace(/\/+$/, '');
  const audience = opts.issuer ?? 'tds';
  const fetchJwks = opts.fetchJwks ?? (() => fetchServiceJwks(serviceUrl, ca));
  const jwks = createRemoteJWKSet(new URL(`${serviceUrl}/.well-known/jwks.json`), {
    cacheMaxAge: opts.jwksTtlMs ?? 5 * 60_000,
    cooldownDuration: opts.jwksMinRefreshMs ?? 10_000,
    timeoutDuration: 10_000,
    // jose's own fetch cannot trust a private CA; ours goes through node:https with it.
    [customFetch]: async () => new Response(JSON.stringify(await fetchJwks()), { status: 200, headers: { 'content-type': 'application/json' } }),
  });
  const used = new UsedTokens(opts.stateDir ?? path.join(dir, '.tds-gateway'));

  const verify = async (token: string) => {
    try {
      const claims = await verifyReleaseToken(token, jwks, { issuer: opts.issuer, provider: opts.providerId });
      if (claims.provider !== opts.providerId) throw new Refusal(401, 'RELEASE_TOKEN_INVALID', 'the release token is for another provider');
      return claims;
    } catch (e) {
      throw e instanceof Refusal ? e : refuseToken(e);
    }
  };

  // Asked just before serving: revocation, withdrawal and suspension reach tokens already issued.
  const stillReleasable = async (job: string, jti: string): Promise<void> => {
    const path = `/v1/jobs/${encodeURIComponent(job)}/release-status`;
    let status: number;
    let body: { releasable?: unknown; reason?: unknown; jti?: unknown };
    try {
      const token = await signRequestToken({ iss: opts.providerId, kid: opts.credentials.kid, privateJwk: opts.credentials.privateJwk }, 'GET', path, { audience });
      const res = await httpGet(`${serviceUrl}${path}`, { ca, timeoutMs: 10_000, headers: { authorization: `Bearer ${token}` } });
      status = res.statusCode ?? 0;
      body = JSON.parse(await readBody(res)) as typeof body;
    } catch (e) {
      throw new Refusal(503, 'SERVICE_UNAVAILABLE', `cannot ask the service whether the release still stands: ${(e as Error).message}`);
    }
    if (status !== 200) throw new Refusal(status >= 500 ? 503 : 403, 'RELEASE_NOT_CONFIRMED', `the service did not confirm the release (${status})`);
    if (body.jti !== jti) throw new Refusal(401, 'RELEASE_TOKEN_INVALID', 'the release token is not the one the service issued for this job');
    if (body.releasable !== true) throw new Refusal(403, String(body.reason ?? 'RELEASE_REVOKED'), 'the release no longer stands (contract revoked, dataset withdrawn or a party suspended)');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const log = { method: req.method, path: (req.url ?? '').slice(0, 300), remote: req.socket.remoteAddress };
    let jti: string | undefined;
    try {
      if (req.method !== 'GET') {
        res.setHeader('allow', 'GET');
        throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'only GET is served');
      }
      const name = fileNameOf(req.url);
      if (!name) throw new Refusal(400, 'PATH_INVALID', 'the path must be /<file name> with no directories');
      const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization ?? '');
      if (!m) throw new Refusal(401, 'RELEASE_TOKEN_MISSING', 'send Authorization: Bearer <release token>');
      const claims = await verify(m[1]!);
      let claimed: string | null = null;
      try {
        claimed = fileNameOf(new URL(claims.url).pathname);
      } catch {
        claimed = null;
      }
      if (claimed !== name) throw new Refusal(403, 'RELEASE_TOKEN_WRONG_URL', 'the release token is for another file');
      if (used.has(claims.jti!)) throw new Refusal(401, 'RELEASE_TOKEN_REPLAYED', 'the release token was already used');
      jti = claims.jti!;
      Object.assign(log, { job: claims.job, dataset: claims.dataset, contract: claims.contract, jti });
      let fh: fs.promises.FileHandle;
      let size: number;
      try {
        fh = await fs.promises.open(path.join(dir, name), 'r');
        const st = await fh.stat();
        if (!st.isFile()) {
          await fh.close();
          throw new Error('not a file');
        }
        size = st.size;
      } catch {
        throw new Refusal(404, 'FILE_NOT_FOUND', 'no such file on this gateway');
      }
      // Asked only when the file is there: the service takes the question as the release's use (job-lifecycle).
      try {
        await stillReleasable(claims.job, jti);
      } catch (e) {
        await fh.close();
        throw e;
      }
      // Claimed after every check and durable before the first byte: single use, across restarts too.
      if (!(await used.claim(jti, claims.exp!))) {
        await fh.close();
        throw new Refusal(401, 'RELEASE_TOKEN_REPLAYED', 'the release token was already used');
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'cache-control': 'no-store', 'x-tds-job': claims.job });
      const hash = createHash('sha256');
      let bytes = 0;
      const stream = fh.createReadStream();
      stream.on('data', (chunk) => {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      });
      // pipeline closes the file when the client goes away mid-download.
      await pipeline(stream, res).catch(() => undefined);
      const served = hash.digest('hex');
      const complete = bytes === size && res.writableFinished;
      logger.info({ ...log, bytes, sha256: served, complete, matchesRelease: served === claims.sha256, ms: Date.now() - started }, 'served');
      if (complete && served !== claims.sha256) logger.warn({ ...log, expected: claims.sha256, sha256: served }, 'served bytes differ from the published sha256: the consumer will reject them');
    } catch (e) {
      const r = e instanceof Refusal ? e : new Refusal(500, 'GATEWAY_ERROR', 'internal error');
      if (!(e instanceof Refusal)) logger.warn({ ...log, err: e }, 'gateway error');
      logger.warn({ ...log, status: r.status, code: r.code, detail: r.message }, 'refused');
      if (!res.headersSent) sendProblem(res, r);
      else res.destroy();
    }
  };

  const server = https.createServer({ cert: pemOrFile(opts.cert), key: pemOrFile(opts.key), minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(req, res);
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ dir, port, host, providerId: opts.providerId, service: serviceUrl }, 'gateway listening');
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          used.close();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
