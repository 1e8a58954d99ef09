/**
 * Who is calling: the authenticated principal every service method receives,
 * and the facts about a key that authentication needs. Neutral ground between
 * http/auth.ts (which establishes a principal) and the capabilities (which act
 * for one), so that no service imports the HTTP edge.
 */
import { roleRequired } from './errors.js';

/** The authenticated caller, available to routes as res.locals.principal. */
export interface Principal {
  participantId: string;
  roles: string[];
  kid: string;
}

/** What the key resolver knows about a key id: immutable, so authentication may cache it. */
export interface ResolvedKey {
  kid: string;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  participantId: string;
}

/** What is current about a key and its owner, read together with recording a token use. */
export interface KeyState {
  /** False when (issuer, jti) was already used. */
  fresh: boolean;
  revokedAt: Date | null;
  status: 'pending' | 'active' | 'suspended';
  roles: string[];
}

/**
 * A caller whose token's signature and claims hold but whose token use is not
 * recorded yet: a handler that records it in its own statement (the job
 * release) passes the key state that statement read to `accept`; any other
 * path calls `complete`, which records it by itself. Either gives the
 * Principal or throws the authentication refusal (KEY_ROTATED,
 * TOKEN_REPLAYED, PARTICIPANT_NOT_ACTIVE).
 */
export interface PendingPrincipal {
  participantId: string;
  kid: string;
  jti: string;
  /** Until when the token id must be remembered. */
  expiresAt: Date;
  accept(state: KeyState): Principal;
  complete(): Promise<Principal>;
  /** True once accept or complete decided. */
  readonly settled: boolean;
}

/** Throw ROLE_REQUIRED unless the principal holds one of the roles. */
export function requireRole(p: Principal, ...roles: string[]): void {
  if (!roles.some((r) => p.roles.includes(r))) throw roleRequired(roles);
}
