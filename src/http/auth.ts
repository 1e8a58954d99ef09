/**
 * Request authentication: every call carries a short-lived EdDSA JWT signed by
 * the participant's own key and bound to one method and path, used once.
 * This module never imports participants/: app.ts hands it a key resolver.
 */
import type { RequestHandler, Request } from 'express';
import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { badText } from '../input-text.js';
import { publicKeyFromJwk } from '../crypto/ed25519.js';
import { DomainError, tokenReplayed, unauthenticated, unknownKey } from '../errors.js';
import type { KeyState, Principal, ResolvedKey } from '../principal.js';

/** Dependencies of the authenticator, wired by app.ts. */
export interface AuthDeps {
  audience: string;
  /** The immutable facts of a key id (owner, public key); null when unknown. Safe to cache. */
  resolveKey(kid: string): Promise<ResolvedKey | null>;
  /** Record (issuer, jti) until expiresAt and read the key's and owner's current state, in one round trip. */
  recordUseAndReadState(kid: string, issuer: string, jti: string, expiresAt: Date): Promise<KeyState>;
  /** Record (issuer, jti) until expiresAt; false when it was already used (registration). */
  recordTokenUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean>;
}

// Imported verification keys by kid. A kid is the hash of its key and its owner
// never changes, so entries never go stale; revocation and status are always read fresh.
const keyCache = new Map<string, { participantId: string; key: CryptoKey | Uint8Array }>();
const KEY_CACHE_MAX = 10_000;

// jose verifies with node's OpenSSL, which accepts small-order and non-canonical public keys (with
// them a "signature" needs no secret); so the key itself is checked strictly before it is imported,
// for keys on record from before this check too. A refused key authenticates nothing.
async function importPublic(publicJwk: ResolvedKey['publicJwk']): Promise<CryptoKey | Uint8Array> {
  try {
    publicKeyFromJwk(publicJwk);
  } catch {
    throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the signing key is not an acceptable Ed25519 public key');
  }
  return importJWK({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, alg: 'EdDSA' }, 'EdDSA');
}

/** Longest token lifetime accepted (exp - iat), seconds. */
export const MAX_TOKEN_LIFETIME_S = 300;
/** Clock skew tolerated on iat/exp, seconds. */
export const CLOCK_SKEW_S = 30;

/** The path a token must name in htu: the request path without the query string. */
export function requestPath(req: Request): string {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function bearerOf(req: Request): string {
  const h = req.headers.authorization;
  if (!h) throw unauthenticated('AUTH_REQUIRED', 'an Authorization: Bearer <JWT> header is required');
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(h);
  if (!m) throw unauthenticated('TOKEN_MALFORMED', 'the Authorization header must be "Bearer <compact JWS>"');
  return m[1]!;
}

function mapJoseError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('TOKEN_EXPIRED', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return unauthenticated('TOKEN_AUDIENCE_MISMATCH', 'the token is not for this service (aud)');
    if (err.claim === 'iat' || err.claim === 'nbf') return unauthenticated('TOKEN_NOT_YET_VALID', 'the token is not valid yet (iat/nbf in the future)');
    return unauthenticated('TOKEN_MALFORMED', `token claim ${err.claim} is invalid`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return unauthenticated('TOKEN_SIGNATURE_INVALID', 'the token signature does not verify');
  return unauthenticated('TOKEN_MALFORMED', 'the token is not a valid EdDSA JWT');
}

/**
 * Verify a request token's signature and claims against a public key and the
 * request it came with; returns the payload with its jti and expiry. Does not
 * record the jti: the caller does, in the same round trip as its state read.
 */
async function verifyTokenClaims(
  token: string,
  key: CryptoKey | Uint8Array,
  req: Request,
  expectedIssuer: string,
  audience: string,
): Promise<JWTPayload & { jti: string; exp: number }> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['EdDSA', 'Ed25519'],
      audience,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'htm', 'htu'],
    }));
  } catch (err) {
    throw mapJoseError(err);
  }
  const { iat, exp, jti, htm, htu, iss } = payload as JWTPayload & { htm?: unknown; htu?: unknown };
  if (typeof iat !== 'number' || typeof exp !== 'number' || typeof jti !== 'string' || jti.length === 0 || jti.length > 200 || badText(jti) !== null) {
    throw unauthenticated('TOKEN_MALFORMED', 'iat, exp must be numbers and jti a string of 1-200 characters (no NUL, valid Unicode)');
  }
  if (exp - iat > MAX_TOKEN_LIFETIME_S) throw unauthenticated('TOKEN_LIFETIME_TOO_LONG', `exp may be at most ${MAX_TOKEN_LIFETIME_S} s after iat`);
  if (iat > Date.now() / 1000 + CLOCK_SKEW_S) throw unauthenticated('TOKEN_NOT_YET_VALID', 'iat is in the future');
  if (iss !== expectedIssuer) throw unauthenticated('TOKEN_ISSUER_MISMATCH', 'iss does not name the owner of the signing key');
  if (htm !== req.method) throw unauthenticated('TOKEN_BINDING_MISMATCH', `the token is for method ${String(htm)}, not ${req.method}`);
  if (htu !== requestPath(req)) throw unauthenticated('TOKEN_BINDING_MISMATCH', `the token is for path ${String(htu)}, not ${requestPath(req)}`);
  return { ...payload, jti, exp };
}

/** How long a token id must be remembered: until the token can no longer pass the expiry check. */
function rememberUntil(exp: number): Date {
  return new Date((exp + CLOCK_SKEW_S) * 1000);
}

/**
 * Verify a registration token: signed by the key in the body (iss = kid =
 * its thumbprint), bound to this request, used once.
 */
export async function verifyRegistrationToken(
  token: string,
  publicJwk: ResolvedKey['publicJwk'],
  req: Request,
  thumbprint: string,
  deps: Pick<AuthDeps, 'audience' | 'recordTokenUse'>,
): Promise<JWTPayload> {
  let key: CryptoKey | Uint8Array;
  try {
    key = await importPublic(publicJwk);
  } catch {
    throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the key in the body cannot verify the token');
  }
  const payload = await verifyTokenClaims(token, key, req, thumbprint, deps.audience);
  const fresh = await deps.recordTokenUse(thumbprint, payload.jti, rememberUntil(payload.exp));
  if (!fresh) throw tokenReplayed();
  return payload;
}

/** The header kid of a compact JWS, or a TOKEN_MALFORMED error. */
export function tokenKid(token: string): string {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw unauthenticated('TOKEN_MALFORMED', 'the token header cannot be decoded');
  }
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw unauthenticated('TOKEN_MALFORMED', 'the token must be signed with alg EdDSA');
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 100 || badText(header.kid) !== null) throw unauthenticated('TOKEN_MALFORMED', 'the token header needs a kid');
  return header.kid;
}

/** Bearer token of a request (throws AUTH_REQUIRED / TOKEN_MALFORMED). */
export const bearerToken = bearerOf;

/** Middleware: authenticate the caller or answer 401; sets res.locals.principal. */
export function authenticate(deps: AuthDeps): RequestHandler {
  return async (req, res, next) => {
    const token = bearerOf(req);
    const kid = tokenKid(token);
    let known = keyCache.get(kid);
    if (!known) {
      const resolved = await deps.resolveKey(kid);
      if (!resolved) throw unknownKey();
      known = { participantId: resolved.participantId, key: await importPublic(resolved.publicJwk) };
      if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
      keyCache.set(kid, known);
    }
    const payload = await verifyTokenClaims(token, known.key, req, known.participantId, deps.audience);
    // Revocation and status are read after the signature (so an outsider learns nothing
    // about who is pending) and fresh on every request (so a suspension is immediate).
    const state = await deps.recordUseAndReadState(kid, known.participantId, payload.jti, rememberUntil(payload.exp));
    if (state.revokedAt) throw unauthenticated('KEY_ROTATED', 'this key was rotated out and no longer authenticates requests');
    if (!state.fresh) throw tokenReplayed();
    if (state.status !== 'active') throw unauthenticated('PARTICIPANT_NOT_ACTIVE', `the participant is ${state.status}`);
    res.locals.principal = { participantId: known.participantId, roles: state.roles, kid } satisfies Principal;
    next();
  };
}

/** The authenticated caller of a request (set by authenticate). */
export function principalOf(res: { locals: Record<string, unknown> }): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw unauthenticated('AUTH_REQUIRED', 'authentication is required');
  return p;
}
