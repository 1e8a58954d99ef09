/**
 * A small HTTP client of the tds API for the `tds` command, the gateway and
 * scripts: it signs a fresh request token for every call (so a retried call
 * never replays a jti), and turns problem+json answers into `TdsApiError`
 * carrying the stable `code`, so callers branch on codes, never on text.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import type { JSONWebKeySet } from 'jose';
import type { PublicJwk } from '../crypto/ed25519.js';
import type { ContractView } from '../agreements/contract-view.js';
import type { DatasetView } from '../datasets/dataset-view.js';
import type { ParticipantView } from '../participants/participant-view.js';
import type { DownloadJobView, JobView } from '../jobs/job-view.js';
import type { OfferView } from '../agreements/offer-view.js';
import type { ContractProposalV1, DatasetV1, OfferV1 } from '../generated/contracts.js';
import { signRequestToken, type Signer } from './request-token.js';
import type { Credentials } from './credentials.js';
import { networkErrorMessage, problemOf } from './problem-message.js';
export type { DownloadJobView, JobListItem, JobView } from '../jobs/job-view.js';
export type { RuleInput, RuleView, Standing } from '../reciprocity/rule-view.js';
import type { RuleInput, RuleView, Standing } from '../reciprocity/rule-view.js';


/** An error answer of the API: its status and the problem's stable code and detail. */
export class TdsApiError extends Error {
  override readonly name = 'TdsApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: unknown,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** What the client needs: where the service is, who signs, and the audience the service expects. */
export interface TdsClientOptions {
  baseUrl: string;
  credentials?: Credentials;
  audience?: string;
  /** Extra CA certificate(s), PEM, trusted for the service's HTTPS besides the system's (`--ca FILE`). */
  ca?: string;
}

/** What `tds offer create` sends: an offer.v1 body, its output policy as the user wrote it (the service checks it). */
export type OfferRequest = Omit<OfferV1, 'outputPolicy' | 'pricePerInvocation' | 'currency'> & { outputPolicy?: Record<string, unknown> };

/** A dataset as GET /v1/datasets lists it; a listing may name the provider. */
export type DatasetListItem = DatasetView & { providerName?: string };

/** One page of a list answer: its items and the cursor of the next page (null on the last). */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Signed client of one tds service. */
export class TdsClient {
  readonly baseUrl: string;
  readonly audience: string;

  constructor(private readonly opts: TdsClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.audience = opts.audience ?? 'tds';
  }

  /** The credentials this client signs with (undefined for an anonymous client). */
  get credentials(): Credentials | undefined {
    return this.opts.credentials;
  }

  /**
   * Send a signed request and return the parsed answer (JSON, or text for
   * other media types). `asIssuer` overrides the token's iss: registration
   * signs as the key's thumbprint because no participant id exists yet.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, asIssuer?: string): Promise<T> {
    const creds = this.opts.credentials;
    if (!creds) throw new Error('no credentials: pass a key file with --key');
    const iss = asIssuer ?? creds.id;
    if (!iss) throw new Error('the key file has no participant id yet: run `tds register` first');
    const signer: Signer = { iss, kid: creds.kid, privateJwk: creds.privateJwk };
    const token = await signRequestToken(signer, method, path.split('?')[0]!, { audience: this.audience });
    return this.send<T>(method, path, body, { ...headers, authorization: `Bearer ${token}` });
  }

  /** An unauthenticated request (the JWKS, health). */
  async requestAnonymous<T = unknown>(method: string, path: string): Promise<T> {
    return this.send<T>(method, path, undefined, {});
  }

  /** A signed GET answered with JSON (query values are added to the path). */
  async getJson<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', withQuery(path, query));
  }

  /** A signed GET answered with text (checkpoints, keys). */
  async getText(path: string): Promise<string> {
    const body = await this.request<unknown>('GET', path, undefined, { accept: 'text/plain, application/problem+json' });
    return typeof body === 'string' ? body : JSON.stringify(body);
  }

  private async send<T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<T> {
    const h: Record<string, string> = { accept: 'application/json, application/problem+json', ...headers };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) h['content-type'] = 'application/json';
    let res: { ok: boolean; status: number; statusText: string; contentType: string; text: string };
    try {
      res = this.opts.ca && this.baseUrl.startsWith('https:')
        ? await sendWithCa(`${this.baseUrl}${path}`, method.toUpperCase(), h, payload, this.opts.ca)
        : await fetchText(`${this.baseUrl}${path}`, { method: method.toUpperCase(), headers: h, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (e) {
      throw new Error(networkErrorMessage(this.baseUrl, e, this.networkHints(method, headers['idempotency-key'])), { cause: e });
    }
    const text = res.text;
    if (!res.ok) {
      const p = problemOf(res.status, text, res.statusText);
      throw new TdsApiError(res.status, p.code, p.detail, p.body);
    }
    // JSON.parse of the text, not res.json(): objects from fetch's own realm would not count as plain JSON data for canonicalize.
    const isJson = /json/i.test(res.contentType);
    if (isJson && text !== '') {
      try {
        return JSON.parse(text) as T;
      } catch {
        return text as T;
      }
    }
    return text as T;
  }

  /**
   * Every item of a paginated list (`{items, nextCursor}`), following
   * nextCursor page by page; with `limit`, at most that many, and the
   * returned nextCursor continues after them (null when nothing is left).
   */
  async listAll<T>(path: string, query: Record<string, string | number | undefined> = {}, limit?: number, pageSize = 200): Promise<ListPage<T>> {
    const items: T[] = [];
    let cursor = typeof query.cursor === 'string' ? query.cursor : undefined;
    for (;;) {
      const want = limit === undefined ? pageSize : Math.min(pageSize, limit - items.length);
      const page = await this.getJson<ListPage<T>>(path, { ...query, limit: want, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      if (!cursor || (limit !== undefined && items.length >= limit)) return { items, nextCursor: cursor ?? null };
    }
  }

  /** One dataset of the catalog. */
  async getDataset(datasetId: string): Promise<DatasetListItem> {
    return this.request('GET', `/v1/datasets/${encodeURIComponent(datasetId)}`);
  }

  /** The offers of a dataset, newest first (one answer `{items}`, not paginated). */
  async listOffers(datasetId: string): Promise<{ items: OfferView[] }> {
    return this.request('GET', `/v1/datasets/${encodeURIComponent(datasetId)}/offers`);
  }

  /** What to say about a failed connection: how to trust a certificate, and whether a retry is safe. */
  private networkHints(method: string, idempotencyKey: string | undefined): { caHint: string; retryHint?: string; maybeReceivedHint?: string } {
    const caHint = this.opts.ca
      ? 'the certificate given with --ca (TDS_CA) does not vouch for this server: pass its CA or its own certificate'
      : 'pass the server\'s CA or its self-signed certificate with --ca FILE (or TDS_CA=FILE)';
    if (idempotencyKey) {
      return { caHint, retryHint: `retry with the same --idempotency-key ${idempotencyKey}: if the service received the request, it returns the same job and uses no further invocation` };
    }
    if (method.toUpperCase() !== 'GET') return { caHint, maybeReceivedHint: 'the service may have received the request: check its effect before you retry' };
    return { caHint };
  }

  /** POST /v1/participants, signed by the key being registered (iss = kid = its thumbprint). */
  async register(input: { name: string; roles: string[]; publicKeyJwk: PublicJwk; organization?: string; contact?: string }): Promise<{ id: string; status: string; kid: string; roles: string[] }> {
    const kid = this.opts.credentials?.kid;
    if (!kid) throw new Error('no credentials: pass a key file with --key');
    return this.request('POST', '/v1/participants', input, {}, kid);
  }

  /** Operator: activate a pending participant. */
  async approve(participantId: string): Promise<{ id: string; status: string }> {
    return this.request('POST', `/v1/participants/${encodeURIComponent(participantId)}/approve`);
  }

  /** Operator: suspend a participant (it can do nothing until approved again). */
  async suspend(participantId: string): Promise<{ id: string; status: string }> {
    return this.request('POST', `/v1/participants/${encodeURIComponent(participantId)}/suspend`);
  }

  /** A participant's directory entry, with every key it ever registered. */
  async getParticipant(participantId: string): Promise<ParticipantView> {
    return this.request('GET', `/v1/participants/${encodeURIComponent(participantId)}`);
  }

  /** Provider or consumer: publish a dataset description. */
  async publishDataset(input: DatasetV1): Promise<DatasetView> {
    return this.request('POST', '/v1/datasets', input);
  }

  /** Provider: make an offer on one of its datasets. */
  async createOffer(datasetId: string, input: OfferRequest): Promise<{ id: string }> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(datasetId)}/offers`, input);
  }

  /** Consumer: propose a contract from an offer. */
  async proposeContract(input: ContractProposalV1): Promise<ContractView> {
    return this.request('POST', '/v1/contracts', input);
  }

  /** A contract with its document, canonical form, digest and signatures. */
  async getContract(contractId: string): Promise<ContractView> {
    return this.request('GET', `/v1/contracts/${encodeURIComponent(contractId)}`);
  }

  /** Submit this party's signature (base64url Ed25519 over the canonical bytes). */
  async signContract(contractId: string, body: { kid: string; signature: string }): Promise<{ id: string; state: string }> {
    return this.request('POST', `/v1/contracts/${encodeURIComponent(contractId)}/signatures`, body);
  }

  /** Owning provider: withdraw a dataset (no further offers, contracts or releases). */
  async withdrawDataset(datasetId: string): Promise<{ id: string; title: string; status: string; withdrawnAt?: string | null }> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(datasetId)}/withdraw`, {});
  }

  /** The contract's provider or the operator: revoke it at once, with a reason. */
  async revokeContract(contractId: string, reason: string): Promise<ContractView> {
    return this.request('POST', `/v1/contracts/${encodeURIComponent(contractId)}/revoke`, { reason });
  }

  /** Operator (space-wide) or provider (for its own offers): create a reciprocity rule. */
  async createRule(rule: RuleInput): Promise<RuleView> {
    return this.request('POST', '/v1/reciprocity-rules', rule);
  }

  /** Every reciprocity rule, optionally of one research field or scope (every page). */
  async listRules(q: { researchField?: string; scope?: 'space' | 'offer' } = {}): Promise<{ items: RuleView[] }> {
    return this.listAll<RuleView>('/v1/reciprocity-rules', q);
  }

  /** Self: make `publicKeyJwk` the current key; signed by the current key, which then no longer authenticates. */
  async rotateKey(publicKeyJwk: PublicJwk): Promise<ParticipantView> {
    const id = this.opts.credentials?.id;
    if (!id) throw new Error('the key file has no participant id yet: run `tds register` first');
    return this.request('POST', `/v1/participants/${encodeURIComponent(id)}/keys`, { publicKeyJwk });
  }

  /** Consumer: ask for a job's release; a retry with the same idempotency key returns the same job. */
  async createJob(input: { contractId: string; purpose: string }, idempotencyKey?: string): Promise<DownloadJobView> {
    return this.request('POST', '/v1/jobs', input, { 'idempotency-key': idempotencyKey ?? newIdempotencyKey() });
  }

  /** A job's state (the token only for its consumer). */
  async getJob(jobId: string): Promise<JobView> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  /** Consumer: record the job's result digest (ledger job.completed). */
  async completeJob(jobId: string, body: { resultDigest: string; exitCode?: number; datasetSha256?: string }): Promise<DownloadJobView> {
    return this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/complete`, body);
  }

  /** Consumer: a download job could not run (the invocation stays used). */
  async failJob(jobId: string, reason: string): Promise<{ id: string; state: 'failed'; reason: string; releaseConfirmed: boolean }> {
    return this.request('POST', `/v1/jobs/${encodeURIComponent(jobId)}/fail`, { reason });
  }

  /** What the caller shares in a research field (or under a contract) and what its next release would be told. */
  async standing(field: string | undefined, kind?: 'raw' | 'insight', contractId?: string): Promise<Standing> {
    const q = new URLSearchParams({ ...(field ? { field } : {}), ...(kind ? { kind } : {}), ...(contractId ? { contractId } : {}) });
    return this.request('GET', `/v1/reciprocity/standing?${q.toString()}`);
  }

  /** Provider (its data node): attest that the file it holds for a dataset has the published digest and size. */
  async attestDataset(datasetId: string, body: { sha256: string; byteSize: number }): Promise<{ id: string; attestedAt: string }> {
    return this.request('POST', `/v1/datasets/${encodeURIComponent(datasetId)}/attestations`, body);
  }

  /** The service's public keys (release-token key and ledger checkpoint key), unauthenticated. */
  async getJwks(): Promise<JSONWebKeySet> {
    return this.requestAnonymous('GET', '/.well-known/jwks.json');
  }
}

/**
 * A fresh Idempotency-Key for a job request made without one: every POST
 * /v1/jobs carries a key, so a request whose answer was lost can be retried
 * with the key the error message names, and never counts twice.
 */
export function newIdempotencyKey(): string {
  return `tds-${randomUUID()}`;
}

/** fetch, reading the whole body as text. */
async function fetchText(url: string, init: RequestInit): Promise<{ ok: boolean; status: number; statusText: string; contentType: string; text: string }> {
  const res = await fetch(url, init);
  return { ok: res.ok, status: res.status, statusText: res.statusText, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/**
 * One HTTPS request with node:https trusting the system's CAs plus `ca`
 * (global fetch cannot take a CA without undici). Answers are capped at
 * 64 MiB, far above any API answer.
 */
function sendWithCa(url: string, method: string, headers: Record<string, string>, body: string | undefined, ca: string): Promise<{ ok: boolean; status: number; statusText: string; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(url), { method, headers, ca: [...tls.rootCertificates, ca] }, (res) => {
      readBody(res, 64 << 20).then((text) => {
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, statusText: res.statusMessage ?? '', contentType: String(res.headers['content-type'] ?? ''), text });
      }, reject);
    });
    req.setTimeout(120_000, () => req.destroy(Object.assign(new Error('no answer in 120 s'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** `path?k=v&...` with the defined values of `query`. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/**
 * GET a URL with node:http(s), trusting only `ca` when given. Global fetch
 * cannot take a custom CA without undici, and gateways commonly run with a
 * certificate from the hospital's own CA, so downloads and JWKS use this.
 */
export function httpGet(
  url: string,
  opts: { ca?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number; addressProblem?: (address: string) => string | null } = {},
): Promise<http.IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return Promise.reject(new Error(`unsupported URL scheme ${u.protocol}`));
  return new Promise((resolve, reject) => {
    const mod = u.protocol === 'https:' ? https : http;
    const check = opts.addressProblem;
    // With an address policy: resolve the name ourselves, refuse when ANY address it has is refused, and
    // check again the address the socket actually connected to (IP literals skip lookup; rebinding cannot slip by).
    const lookup: net.LookupFunction | undefined = check
      ? (hostname, options, callback) => {
          dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
            if (err) return callback(err, '', 0);
            const list = addresses as dns.LookupAddress[];
            const bad = list.map((a) => check(a.address)).find((p) => p !== null);
            if (bad || list.length === 0) return callback(new Error(`refusing to connect to ${hostname}: ${bad ?? 'no address'}`), '', 0);
            if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
            callback(null, list[0]!.address, list[0]!.family);
          });
        }
      : undefined;
    // agent: false = a fresh socket, so 'connect' fires (and is checked) before the request, token included, is written.
    const req = mod.get(u, { headers: opts.headers, ...(lookup ? { lookup, agent: false } : {}), ...(u.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}) }, resolve);
    if (check) {
      req.on('socket', (socket) => {
        const verify = () => {
          const problem = check(socket.remoteAddress ?? '');
          if (problem) req.destroy(new Error(`refusing the connection to ${socket.remoteAddress}: ${problem}`));
        };
        if (socket.connecting) socket.once('connect', verify);
        else verify();
      });
    }
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`timed out fetching ${u.origin}${u.pathname}`)));
    req.on('error', reject);
  });
}

/** Read a whole response body (capped, for small JSON answers) as text. */
export async function readBody(res: http.IncomingMessage, maxBytes = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw new Error(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** PEM text as given, or the contents of the file it names (certificates, keys and CAs accept both). */
export function pemOrFile(value: string): string {
  return value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8');
}
