/**
 * Request authentication: every call carries a short-lived EdDSA JWT signed by
 * the participant's own key and bound to one method and path, used once.
 * This module never imports participants/: app.ts hands it a key resolver.
 */
import type { RequestHandler, Request } from 'express';
import { badText } from '../input-text.js';
import { verifierOf, type Verifier } from '../crypto/ed25519-node.js';
import { decodeJws, jwsSignatureHolds, JwsFormatError, type DecodedJws } from '../crypto/compact-jws.js';
import { tokenReplayed, unauthenticated, unknownKey } from '../errors.js';
import type { KeyState, PendingPrincipal, Principal, ResolvedKey } from '../principal.js';
import type { RecentTokens } from './recent-tokens.js';

/** Dependencies of the authenticator, wired by app.ts. */
export interface AuthDeps {
  audience: string;
  /** The immutable facts of a key id (owner, public key); null when unknown. Safe to cache. */
  resolveKey(kid: string): Promise<ResolvedKey | null>;
  /** Record (issuer, jti) until expiresAt and read the key's and owner's current state, in one round trip. */
  recordUseAndReadState(kid: string, issuer: string, jti: string, expiresAt: Date): Promise<KeyState>;
  /** The key's and owner's current state, recording nothing (read-only requests, whose token ids recentReads holds). */
  readKeyState(kid: string): Promise<Omit<KeyState, 'fresh'>>;
  /** Record (issuer, jti) until expiresAt; false when it was already used (registration). */
  recordTokenUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean>;
  /** This process's memory of read-only requests' token ids; without it every token id is recorded durably. */
  recentReads?: RecentTokens;
  /** Requests whose handler records the token use itself, in its own statement (POST /v1/jobs). */
  deferred?(req: Request): boolean;
}

/** The claims of a request token after its checks. */
type TokenPayload = Record<string, unknown> & { iss: string; jti: string; iat: number; exp: number };

// Verifiers by kid, each holding its key decoded and checked once (ed25519-node.ts). A kid is the hash of
// its key and its owner never changes, so entries never go stale; revocation and status are always read fresh.
const keyCache = new Map<string, { participantId: string; verify: Verifier }>();
const KEY_CACHE_MAX = 10_000;

// A small-order or non-canonical public key lets a "signature" be made without the secret; verifierOf
// checks the key strictly before using it, for keys on record from before that check too, and adds the
// checks on s and R that do not depend on the linked library. A refused key authenticates nothing.
function importPublic(publicJwk: ResolvedKey['publicJwk']): Verifier {
  try {
    return verifierOf(publicJwk);
  } catch {
    throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the signing key is not an acceptable Ed25519 public key');
  }
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

function decodeToken(token: string): DecodedJws {
  try {
    return decodeJws(token);
  } catch (e) {
    if (e instanceof JwsFormatError) throw unauthenticated('TOKEN_MALFORMED', 'the token is not a valid EdDSA JWT');
    throw e;
  }
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'jti', 'htm', 'htu'] as const;

/**
 * Verify a request token's signature and claims against a key and the
 * request it came with; returns the payload with its jti and expiry. Does not
 * record the jti: the caller does, in the same round trip as its state read.
 * Claims are checked in jose's order (signature, presence, aud, nbf, exp), so
 * every refusal keeps the code it had when jose did this.
 */
function verifyTokenClaims(jws: DecodedJws, verify: Verifier, req: Request, expectedIssuer: string, audience: string): TokenPayload {
  if (!jwsSignatureHolds(jws, verify)) throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the token signature does not verify');
  const payload = jws.payload;
  for (const claim of REQUIRED_CLAIMS) {
    if (payload[claim] === undefined) throw unauthenticated('TOKEN_MALFORMED', `token claim ${claim} is invalid`);
  }
  const { iat, exp, jti, htm, htu, iss, aud, nbf } = payload;
  if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) throw unauthenticated('TOKEN_AUDIENCE_MISMATCH', 'the token is not for this service (aud)');
  if (typeof iat !== 'number' || typeof exp !== 'number' || typeof jti !== 'string' || jti.length === 0 || jti.length > 200 || badText(jti) !== null) {
    throw unauthenticated('TOKEN_MALFORMED', 'iat, exp must be numbers and jti a string of 1-200 characters (no NUL, valid Unicode)');
  }
  const now = Math.floor(Date.now() / 1000);
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_SKEW_S)) throw unauthenticated('TOKEN_NOT_YET_VALID', 'the token is not valid yet (iat/nbf in the future)');
  if (exp <= now - CLOCK_SKEW_S) throw unauthenticated('TOKEN_EXPIRED', 'the token has expired');
  if (exp - iat > MAX_TOKEN_LIFETIME_S) throw unauthenticated('TOKEN_LIFETIME_TOO_LONG', `exp may be at most ${MAX_TOKEN_LIFETIME_S} s after iat`);
  // A lifetime of zero or less is no lifetime: the clock-skew allowance must not make such a token usable.
  if (exp <= iat) throw unauthenticated('TOKEN_MALFORMED', 'exp must be later than iat');
  if (iat > Date.now() / 1000 + CLOCK_SKEW_S) throw unauthenticated('TOKEN_NOT_YET_VALID', 'iat is in the future');
  if (iss !== expectedIssuer) throw unauthenticated('TOKEN_ISSUER_MISMATCH', 'iss does not name the owner of the signing key');
  if (htm !== req.method) throw unauthenticated('TOKEN_BINDING_MISMATCH', `the token is for method ${String(htm)}, not ${req.method}`);
  if (htu !== requestPath(req)) throw unauthenticated('TOKEN_BINDING_MISMATCH', `the token is for path ${String(htu)}, not ${requestPath(req)}`);
  return payload as TokenPayload;
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
): Promise<Record<string, unknown>> {
  let verify: Verifier;
  try {
    verify = importPublic(publicJwk);
  } catch {
    throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the key in the body cannot verify the token');
  }
  const payload = verifyTokenClaims(decodeToken(token), verify, req, thumbprint, deps.audience);
  const fresh = await deps.recordTokenUse(thumbprint, payload.jti, rememberUntil(payload.exp));
  if (!fresh) throw tokenReplayed();
  return payload;
}

function kidOf(header: Record<string, unknown>): string {
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 100 || badText(kid) !== null) throw unauthenticated('TOKEN_MALFORMED', 'the token header needs a kid');
  return kid;
}

/** The header kid of a compact JWS, or a TOKEN_MALFORMED error. */
export function tokenKid(token: string): string {
  return kidOf(decodeToken(token).header);
}

/** Bearer token of a request (throws AUTH_REQUIRED / TOKEN_MALFORMED). */
export const bearerToken = bearerOf;

/** The refusal a key state calls for, or the principal (same order for every path: rotated, replayed, not active). */
export function principalFromState(participantId: string, kid: string, state: KeyState): Principal {
  if (state.revokedAt) throw unauthenticated('KEY_ROTATED', 'this key was rotated out and no longer authenticates requests');
  if (!state.fresh) throw tokenReplayed();
  if (state.status !== 'active') throw unauthenticated('PARTICIPANT_NOT_ACTIVE', `the participant is ${state.status}`);
  return { participantId, roles: state.roles, kid };
}

/** True for requests that change nothing (GET, HEAD): their token ids may live in the per-process memory. */
function isReadOnly(req: Request): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/**
 * Middleware: authenticate the caller or answer 401; sets res.locals.principal.
 * A write's token id is recorded durably (PostgreSQL, every process sees it)
 * in the same statement as the key's state read; a read-only request's token
 * id is held in this process's memory (`recentReads`) and only the state is
 * read (no write, no commit). For a request `deferred` names, the signature
 * and claims are checked here and the token use is left to the handler
 * (res.locals.pendingPrincipal), which records it in its own statement.
 */
export function authenticate(deps: AuthDeps): RequestHandler {
  return async (req, res, next) => {
    const token = bearerOf(req);
    const jws = decodeToken(token);
    const kid = kidOf(jws.header);
    let known = keyCache.get(kid);
    if (!known) {
      const resolved = await deps.resolveKey(kid);
      if (!resolved) throw unknownKey();
      known = { participantId: resolved.participantId, verify: importPublic(resolved.publicJwk) };
      if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
      keyCache.set(kid, known);
    }
    const { participantId } = known;
    const payload = verifyTokenClaims(jws, known.verify, req, participantId, deps.audience);
    const expiresAt = rememberUntil(payload.exp);
    if (deps.deferred?.(req)) {
      let settled = false;
      const settle = (state: KeyState): Principal => {
        settled = true;
        return principalFromState(participantId, kid, state);
      };
      res.locals.pendingPrincipal = {
        participantId, kid, jti: payload.jti, expiresAt,
        accept: settle,
        // Idempotent: a handler that already recorded the use in its own statement passes that state to accept().
        complete: async () => settle(await deps.recordUseAndReadState(kid, participantId, payload.jti, expiresAt)),
        get settled() { return settled; },
      } satisfies PendingPrincipal;
      next();
      return;
    }
    // Revocation and status are read after the signature (so an outsider learns nothing
    // about who is pending) and fresh on every request (so a suspension is immediate).
    let state: KeyState;
    const memory = isReadOnly(req) ? deps.recentReads?.remember(participantId, payload.jti, expiresAt.getTime()) : undefined;
    if (memory === 'fresh' || memory === 'replayed') state = { ...(await deps.readKeyState(kid)), fresh: memory === 'fresh' };
    else state = await deps.recordUseAndReadState(kid, participantId, payload.jti, expiresAt);
    res.locals.principal = principalFromState(participantId, kid, state);
    next();
  };
}

/** The authenticated caller of a request (set by authenticate). */
export function principalOf(res: { locals: Record<string, unknown> }): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw unauthenticated('AUTH_REQUIRED', 'authentication is required');
  return p;
}

/** The caller of a deferred request (see authenticate): its token is verified, its use not yet recorded. */
export function pendingPrincipalOf(res: { locals: Record<string, unknown> }): PendingPrincipal {
  const p = res.locals.pendingPrincipal as PendingPrincipal | undefined;
  if (p) return p;
  // Not deferred (the app was built without it): the principal is settled already.
  const settled = principalOf(res);
  return {
    participantId: settled.participantId, kid: settled.kid, jti: '', expiresAt: new Date(0), settled: true,
    accept: () => settled, complete: async () => settled,
  };
}
