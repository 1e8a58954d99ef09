/**
 * The signed-request token every /v1 call carries: an EdDSA JWT by the
 * participant's own key, bound to one method and path, used once. Browser
 * safe (no node: imports): the CLI and the web console sign with this module.
 */
import { SignJWT, importJWK } from 'jose';
import type { PrivateJwk } from '../crypto/ed25519.js';

/** Who signs: issuer (participant id, or the key thumbprint for registration), kid and private key. */
export interface Signer {
  iss: string;
  kid: string;
  privateJwk: PrivateJwk;
}

/** Options to bend a token for tests of the refusals (expired, wrong audience...). */
export interface TokenOptions {
  audience?: string;
  iat?: number;
  exp?: number;
  jti?: string;
  htm?: string;
  htu?: string;
  kid?: string;
  iss?: string;
}

/** Sign a request token for `method path` (path without query string). */
export async function signRequestToken(signer: Signer, method: string, path: string, opts: TokenOptions = {}): Promise<string> {
  const key = await importJWK({ ...signer.privateJwk, alg: 'EdDSA' }, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  const iat = opts.iat ?? now;
  return new SignJWT({ htm: opts.htm ?? method.toUpperCase(), htu: opts.htu ?? path.split('?')[0] })
    .setProtectedHeader({ alg: 'EdDSA', kid: opts.kid ?? signer.kid, typ: 'JWT' })
    .setIssuer(opts.iss ?? signer.iss)
    .setAudience(opts.audience ?? 'tds')
    .setIssuedAt(iat)
    .setExpirationTime(opts.exp ?? iat + 60)
    .setJti(opts.jti ?? globalThis.crypto.randomUUID())
    .sign(key);
}
