/**
 * The provider's download gateway (`tds gateway`): an HTTPS server that hands
 * the files of one folder only to holders of a valid release token. The
 * token is checked against the service's published JWKS (cached, refreshed
 * on an unknown kid), must name this request's path and this provider, and
 * is honoured once per jti. Every serve and every refusal is logged, so the
 * hospital has its own record next to the service's ledger.
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { JSONWebKeySet } from 'jose';
import { verifyReleaseToken } from '../jobs/release-token.js';
import { httpGet, pemOrFile, readBody } from '../client/tds-client.js';

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
  /** Only tokens whose provider (audience) is this participant are honoured. */
  providerId?: string;
  /** Expected token issuer: the service's audience (default: not checked). */
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

/** The service JWKS, cached for a TTL and refetched at most once per minimum interval on an unknown kid. */
class JwksCache {
  private current?: { jwks: JSONWebKeySet; at: number };
  private inflight?: Promise<JSONWebKeySet>;

  constructor(
    private readonly fetchJwks: () => Promise<JSONWebKeySet>,
    private readonly ttlMs: number,
    private readonly minRefreshMs: number,
  ) {}

  async get(): Promise<JSONWebKeySet> {
    if (this.current && Date.now() - this.current.at < this.ttlMs) return this.current.jwks;
    return this.refresh();
  }

  /** Refetch after an unknown kid, unless the cache is younger than the minimum interval (then null). */
  async refreshForUnknownKid(): Promise<JSONWebKeySet | null> {
    if (this.current && Date.now() - this.current.at < this.minRefreshMs) return null;
    return this.refresh();
  }

  private refresh(): Promise<JSONWebKeySet> {
    // Concurrent misses share one fetch.
    this.inflight ??= this.fetchJwks()
      .then((jwks) => {
        this.current = { jwks, at: Date.now() };
        return jwks;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
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
  const logger = opts.logger ?? pino({ name: 'tds-gateway' });
  const ca = opts.ca ? pemOrFile(opts.ca) : undefined;
  const jwks = new JwksCache(opts.fetchJwks ?? (() => fetchServiceJwks(opts.serviceUrl, ca)), opts.jwksTtlMs ?? 5 * 60_000, opts.jwksMinRefreshMs ?? 10_000);
  // jti -> exp (seconds): a token is refused after its first serve, and forgotten once it could no longer verify anyway.
  const used = new Map<string, number>();
  let lastSweep = Date.now();

  const verify = async (token: string) => {
    const check = async (set: JSONWebKeySet) => verifyReleaseToken(token, set, { issuer: opts.issuer, provider: opts.providerId });
    let set: JSONWebKeySet;
    try {
      set = await jwks.get();
    } catch (e) {
      throw new Refusal(503, 'JWKS_UNAVAILABLE', `cannot fetch the service's keys: ${(e as Error).message}`);
    }
    try {
      return await check(set);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw refuseToken(e);
      // The service may have rotated its release key since we cached the set.
      const fresh = await jwks.refreshForUnknownKid().catch(() => null);
      if (!fresh) throw refuseToken(e);
      return check(fresh).catch((e2: unknown) => Promise.reject(refuseToken(e2)));
    }
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
      if (now() - lastSweep > 60_000) sweep();
      if (used.has(claims.jti!)) throw new Refusal(401, 'RELEASE_TOKEN_REPLAYED', 'the release token was already used');
      // Claimed synchronously after verification: two concurrent requests with one token cannot both pass.
      jti = claims.jti!;
      used.set(jti, claims.exp!);
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
        used.delete(jti);
        throw new Refusal(404, 'FILE_NOT_FOUND', 'no such file on this gateway');
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

  const now = () => Date.now();
  const sweep = () => {
    lastSweep = now();
    const cutoff = Math.floor(lastSweep / 1000) - 10;
    for (const [jti, exp] of used) if (exp < cutoff) used.delete(jti);
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
  logger.info({ dir, port, host, providerId: opts.providerId ?? null, service: opts.serviceUrl }, 'gateway listening');
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
