/**
 * Release tokens: short-lived JWTs signed by the service's release key,
 * bound to one job, contract, dataset digest and provider. The provider's
 * gateway checks them against /.well-known/jwks.json and serves once per jti.
 */
import { randomUUID } from 'node:crypto';
import { jwtVerify, type JWTPayload, createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { ServiceKey } from '../service-keys.js';
import { signerOf } from '../crypto/ed25519-node.js';
import { signJws } from '../crypto/compact-jws.js';
import type { DatasetV1 } from '../generated/contracts.js';

/** How long a release token lives. */
export const RELEASE_TTL_S = 300;
/** The JWT `typ` of release tokens, so no other token of ours can be mistaken for one. */
export const RELEASE_TOKEN_TYPE = 'tds-release+jwt';

/**
 * A download job's release as the API shows it: where the bytes are and what
 * they must hash to (the dataset's distribution), until when the token holds,
 * and the token itself (shown only to the job's consumer).
 */
export interface ReleaseView extends Distribution {
  token?: string;
  expiresAt: string;
}

/** The release as stored with its job (`jobs.release`): the token and its id always present. */
export interface Release extends ReleaseView {
  token: string;
  jti: string;
}

type Distribution = DatasetV1['distribution'];

/** Claims bound into a release token. */
export interface ReleaseClaims {
  job: string;
  contract: string;
  dataset: string;
  sha256: string;
  provider: string;
  url: string;
}

// The release key expanded once (ed25519-node.ts), again only if the key changes.
let cachedKey: { kid: string; sign: (message: Uint8Array) => Uint8Array } | undefined;

/** Sign a release token; returns it with its expiry. Same header and claims jose's SignJWT wrote. */
export async function signReleaseToken(key: ServiceKey, issuer: string, claims: ReleaseClaims): Promise<{ token: string; expiresAt: Date; jti: string }> {
  if (cachedKey?.kid !== key.publicJwk.kid) cachedKey = { kid: key.publicJwk.kid, sign: signerOf(key.privateJwk) };
  const now = Math.floor(Date.now() / 1000);
  const jti = randomUUID();
  const token = signJws(
    { alg: 'EdDSA', kid: key.publicJwk.kid, typ: RELEASE_TOKEN_TYPE },
    { ...claims, iss: issuer, sub: claims.job, aud: claims.provider, iat: now, exp: now + RELEASE_TTL_S, jti },
    cachedKey.sign,
  );
  return { token, expiresAt: new Date((now + RELEASE_TTL_S) * 1000), jti };
}

/** Verify a release token against a JWKS (a set, or jose's key resolver such as createRemoteJWKSet); returns its claims or throws (jose errors). */
export async function verifyReleaseToken(token: string, jwks: JSONWebKeySet | JWTVerifyGetKey, opts: { issuer?: string; provider?: string } = {}): Promise<JWTPayload & ReleaseClaims> {
  const { payload } = await jwtVerify(token, typeof jwks === 'function' ? jwks : createLocalJWKSet(jwks), {
    algorithms: ['EdDSA', 'Ed25519'],
    typ: RELEASE_TOKEN_TYPE,
    issuer: opts.issuer,
    audience: opts.provider,
    requiredClaims: ['jti', 'exp', 'job', 'dataset', 'sha256', 'provider'],
    clockTolerance: 5,
  });
  return payload as JWTPayload & ReleaseClaims;
}
