/**
 * Factories for signed requests and participants: real keys, real tokens,
 * real registration and approval through the API.
 */
import request from 'supertest';
import type { Express } from 'express';
import { generateKeyPair, privateJwkOf, publicHalf, publicJwkOf, publicKeyOf, thumbprintOf, type PrivateJwk } from '../../src/crypto/ed25519.js';
import { signRequestToken, type Signer, type TokenOptions } from '../../src/client/request-token.js';
import type { TestContext } from './context.js';
import { checkAnswer } from './openapi-check.js';

/** A fresh private key and its thumbprint. */
export async function newKey(): Promise<{ privateJwk: PrivateJwk; kid: string }> {
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  return { privateJwk, kid: await thumbprintOf(privateJwk) };
}

/** Public JWK of a private JWK. */
export function publicOf(privateJwk: PrivateJwk): { kty: 'OKP'; crv: 'Ed25519'; x: string } {
  return publicHalf(privateJwk);
}

type Method = 'get' | 'post';

/**
 * Send a request carrying a fresh signed token for exactly this method and
 * path (opts bend the token for refusal tests); resolves to the response.
 */
export async function signed(app: Express, signer: Signer, method: Method, path: string, body?: unknown, opts: TokenOptions = {}, headers: Record<string, string> = {}): Promise<request.Response> {
  const token = await signRequestToken(signer, method.toUpperCase(), path, opts);
  const req = request(app)[method](path).set('Authorization', `Bearer ${token}`).set(headers);
  const res = await (body === undefined ? req : req.send(body as object));
  // Every answer must be one the OpenAPI document describes.
  checkAnswer(method, path, res.status, res.headers['content-type'], /json/.test(res.headers['content-type'] ?? '') ? res.body : res.text);
  return res;
}

/** A participant acting in tests. */
export interface Actor extends Signer {
  id: string;
}

/** Register a participant through the API (self-signed); returns its signer and the response. */
export async function register(app: Express, body: { name?: string; roles: string[]; organization?: string; contact?: string }) {
  const key = await newKey();
  const signer: Signer = { iss: key.kid, kid: key.kid, privateJwk: key.privateJwk };
  const res = await signed(app, signer, 'post', '/v1/participants', { name: body.name ?? 'Test participant', ...body, publicKeyJwk: publicOf(key.privateJwk) });
  return { res, actor: { id: res.body.id as string, iss: res.body.id as string, kid: key.kid, privateJwk: key.privateJwk } as Actor };
}

/** Register and approve a participant; returns a ready actor. */
export async function makeParticipant(ctx: TestContext, roles: string[], name = `${roles.join('+')} ${Math.random().toString(36).slice(2, 7)}`): Promise<Actor> {
  const { res, actor } = await register(ctx.app, { name, roles });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  const ok = await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${actor.id}/approve`);
  if (ok.status !== 200) throw new Error(`approval failed: ${ok.status} ${JSON.stringify(ok.body)}`);
  return actor;
}

export { publicJwkOf, publicKeyOf };
