/**
 * The benchmark's side of the API: request tokens signed with node:crypto
 * (the same compact EdDSA JWT as src/client/request-token.ts, but with the key
 * imported once, so tens of thousands can be signed before a timed phase in a
 * second or two), and a small JSON client for seeding and polling.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Signer } from '../src/client/request-token.js';

/** Longest lifetime we give a token: the service accepts at most 300 s (exp − iat). */
export const TOKEN_LIFETIME_S = 290;

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

/** Signs request tokens for one participant; every token carries a fresh jti, because the service refuses a second use. */
export class TokenSigner {
  readonly #key: KeyObject;
  readonly #header: string;

  constructor(
    readonly signer: Signer,
    private readonly audience = 'tds',
  ) {
    const { kty, crv, x, d } = signer.privateJwk;
    this.#key = createPrivateKey({ key: { kty, crv, x, d }, format: 'jwk' });
    this.#header = b64url(JSON.stringify({ alg: 'EdDSA', kid: signer.kid, typ: 'JWT' }));
  }

  /** A token for `method path` (path without the query string, as the service binds htu). */
  token(method: string, p: string, lifetime = TOKEN_LIFETIME_S): string {
    const iat = Math.floor(Date.now() / 1000);
    const payload = { htm: method, htu: p.split('?')[0], iss: this.signer.iss, aud: this.audience, iat, exp: iat + lifetime, jti: randomUUID() };
    const input = `${this.#header}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${sign(null, Buffer.from(input), this.#key).toString('base64url')}`;
  }
}

/** Status and parsed body of a call; non-JSON bodies come back as {text}. */
export interface CallResult {
  status: number;
  body: Record<string, unknown>;
}

/** A signed JSON call; never throws on HTTP errors, only on network failure. */
export async function call(base: string, signer: TokenSigner, method: string, p: string, body?: unknown): Promise<CallResult> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${signer.token(method, p)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { text } };
  }
}

/** Like call, but throws unless the status is the expected one: seeding must not half-succeed silently. */
export async function expectCall(base: string, signer: TokenSigner, method: string, p: string, status: number, body?: unknown): Promise<Record<string, unknown>> {
  const r = await call(base, signer, method, p, body);
  if (r.status !== status) throw new Error(`${method} ${p}: expected ${status}, got ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  return r.body;
}

/** The operator's signer, from operator.json in the service's data directory (written by ensureOperator on first start). */
export function operatorOf(dataDir: string): Signer {
  const c = JSON.parse(fs.readFileSync(path.join(dataDir, 'operator.json'), 'utf8')) as { id: string; kid: string; privateJwk: Signer['privateJwk'] };
  return { iss: c.id, kid: c.kid, privateJwk: c.privateJwk };
}
