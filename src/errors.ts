/**
 * The one error type of the domain. Services throw DomainError with a stable
 * code; only the HTTP edge (src/http/problem.ts) maps codes to statuses.
 * Tests assert on `code`, never on message text.
 */

/** Every stable error code the API can answer with. */
export type ErrorCode =
  // input
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MALFORMED_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  // authentication (401)
  | 'AUTH_REQUIRED'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_SIGNATURE_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_LIFETIME_TOO_LONG'
  | 'TOKEN_AUDIENCE_MISMATCH'
  | 'TOKEN_ISSUER_MISMATCH'
  | 'TOKEN_BINDING_MISMATCH'
  | 'TOKEN_REPLAYED'
  | 'UNKNOWN_KEY'
  | 'KEY_ROTATED'
  | 'PARTICIPANT_NOT_ACTIVE'
  // authorization (403)
  | 'FORBIDDEN'
  | 'ROLE_REQUIRED'
  | 'NOT_OWNER'
  // domain refusals (403)
  | 'CONTRACT_EXHAUSTED'
  | 'CONTRACT_EXPIRED'
  | 'CONTRACT_NOT_ACTIVE'
  | 'CONTRACT_REVOKED'
  | 'PURPOSE_NOT_ALLOWED'
  | 'RECIPROCITY_UNMET'
  | 'DATASET_WITHDRAWN'
  | 'PARTICIPANT_SUSPENDED'
  | 'OFFER_NOT_ACTIVE'
  | 'TERMS_EXCEED_OFFER'
  | 'INVALID_SIGNATURE'
  // lookups and state (404, 409)
  | 'NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'KEY_ALREADY_REGISTERED'
  | 'INVALID_STATE_TRANSITION'
  | 'SIGNATURE_OUT_OF_ORDER'
  | 'ALREADY_SIGNED'
  | 'SIGNING_KEY_ROTATED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RECEIPT_PENDING'
  | 'UNKNOWN_RULE'
  | 'RESULT_NOT_AVAILABLE'
  | 'ALREADY_REVIEWED'
  // compute results (422)
  | 'RESULT_MISMATCH'
  | 'OUTPUT_POLICY_VIOLATION'
  | 'ATTESTATION_MISMATCH'
  // limits and availability
  | 'RATE_LIMITED'
  | 'DATABASE_UNAVAILABLE'
  | 'INTERNAL';

/** A failure the caller can act on: a stable code plus a human detail. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    /** Extra members for the problem document (e.g. validation errors, the evaluated rules). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(`${code}: ${detail}`);
    this.name = 'DomainError';
  }
}

/** Build a DomainError; the named factories below keep call sites short. */
export function domainError(code: ErrorCode, detail: string, extensions?: Record<string, unknown>): DomainError {
  return new DomainError(code, detail, extensions);
}

/** A request body or query that does not match its schema; `errors` carry JSON pointers. */
export function validationFailed(detail: string, errors: Array<{ pointer: string; message: string }> = []): DomainError {
  return new DomainError('VALIDATION_FAILED', detail, { errors });
}

/** An object that does not exist, or that the caller may not know exists. */
export function notFound(what: string, id: string): DomainError {
  return new DomainError('NOT_FOUND', `${what} ${id} not found`);
}

/** The caller lacks the role the action needs. */
export function roleRequired(roles: readonly string[]): DomainError {
  return new DomainError('ROLE_REQUIRED', `this action needs the role ${roles.join(' or ')}`);
}

/** The caller is authenticated but may not act on this object. */
export function forbidden(detail: string): DomainError {
  return new DomainError('FORBIDDEN', detail);
}

/** A state machine refused a transition. */
export function invalidTransition(what: string, from: string, action: string): DomainError {
  return new DomainError('INVALID_STATE_TRANSITION', `cannot ${action} a ${what} in state ${from}`);
}

/**
 * One input value refused for a reason its schema cannot express (a window
 * that ends before it starts, a URL the service will not fetch): VALIDATION_FAILED
 * with a JSON pointer to the value, as schema errors have. The detail defaults
 * to the pointer's path and the message ("validUntil must be after validFrom").
 */
export function invalidField(pointer: string, message: string, detail = `${pointer.slice(1).replace(/\//g, '.')} ${message}`): DomainError {
  return validationFailed(detail, [{ pointer, message }]);
}

/** The 401 codes: the request's credentials do not establish an active participant. */
export type AuthFailureCode = Extract<ErrorCode, 'AUTH_REQUIRED' | 'UNKNOWN_KEY' | 'KEY_ROTATED' | 'PARTICIPANT_NOT_ACTIVE' | `TOKEN_${string}`>;

/** Authentication failed (401) for the reason the code names. */
export function unauthenticated(code: AuthFailureCode, detail: string): DomainError {
  return new DomainError(code, detail);
}

/** A token id (jti) presented a second time. */
export function tokenReplayed(): DomainError {
  return new DomainError('TOKEN_REPLAYED', 'this token (jti) was already used');
}

/** A key id no participant registered. */
export function unknownKey(): DomainError {
  return new DomainError('UNKNOWN_KEY', 'no registered key has this kid');
}

/** The domain refusals (403): the caller is known, the rules say no. */
export type RefusalCode = Extract<ErrorCode,
  | 'NOT_OWNER' | 'CONTRACT_EXHAUSTED' | 'CONTRACT_EXPIRED' | 'CONTRACT_NOT_ACTIVE' | 'CONTRACT_REVOKED' | 'PURPOSE_NOT_ALLOWED'
  | 'RECIPROCITY_UNMET' | 'DATASET_WITHDRAWN' | 'PARTICIPANT_SUSPENDED' | 'OFFER_NOT_ACTIVE' | 'TERMS_EXCEED_OFFER'>;

/** A rule refused the action; extensions carry what the caller needs to act (e.g. the failing rules). */
export function refused(code: RefusalCode, detail: string, extensions?: Record<string, unknown>): DomainError {
  return new DomainError(code, detail, extensions);
}

/** Only the owning participant may do this to the object. */
export function notOwner(detail: string): DomainError {
  return new DomainError('NOT_OWNER', detail);
}

/** The dataset is withdrawn: no new offers, contracts or releases. */
export function datasetWithdrawn(): DomainError {
  return new DomainError('DATASET_WITHDRAWN', 'the dataset is withdrawn');
}

/** The 409 codes: the object's current state does not allow the action. */
export type ConflictCode = Extract<ErrorCode,
  | 'KEY_ALREADY_REGISTERED' | 'INVALID_STATE_TRANSITION' | 'SIGNATURE_OUT_OF_ORDER' | 'ALREADY_SIGNED' | 'RECEIPT_PENDING' | 'SIGNING_KEY_ROTATED'
  | 'RESULT_NOT_AVAILABLE' | 'ALREADY_REVIEWED'>;

/** The object's state conflicts with the action (409); extensions carry what the caller needs (e.g. the job's state). */
export function conflict(code: ConflictCode, detail: string, extensions?: Record<string, unknown>): DomainError {
  return new DomainError(code, detail, extensions);
}

/** The 422 codes of a signed document that does not match what it must (a result, an attested file). */
export type MismatchCode = Extract<ErrorCode, 'RESULT_MISMATCH' | 'OUTPUT_POLICY_VIOLATION' | 'ATTESTATION_MISMATCH'>;

/** A submitted document does not match the job, the contract's policy or the published file; `errors` carry JSON pointers. */
export function mismatch(code: MismatchCode, detail: string, errors?: Array<{ pointer: string; message: string }>): DomainError {
  return new DomainError(code, detail, errors === undefined ? {} : { errors });
}

/** No route (or console file) answers this path. */
export function routeNotFound(detail: string): DomainError {
  return new DomainError('ROUTE_NOT_FOUND', detail);
}

/** The request body is not JSON the service reads (415). */
export function unsupportedMediaType(detail: string): DomainError {
  return new DomainError('UNSUPPORTED_MEDIA_TYPE', detail);
}

/** Too many requests of this kind for now (429): retry later. */
export function rateLimited(detail: string): DomainError {
  return new DomainError('RATE_LIMITED', detail);
}

/** The service's own state is broken (500): never the caller's fault. */
export function internalError(detail: string): DomainError {
  return new DomainError('INTERNAL', detail);
}

/** The public key is already registered (to anyone). */
/** A reciprocity rule an offer names does not exist, or is another provider's (422). */
export function unknownRule(ids: readonly string[]): DomainError {
  return new DomainError('UNKNOWN_RULE', `unknown reciprocity rule(s) or rules of another provider: ${ids.join(', ')}`);
}

/** An Idempotency-Key already used by the caller for a different request (422). */
export function idempotencyKeyReused(): DomainError {
  return new DomainError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
}

export function keyAlreadyRegistered(): DomainError {
  return new DomainError('KEY_ALREADY_REGISTERED', 'this public key is already registered');
}

/** A signature that does not verify, or that is not made with the key it must be made with. */
export function invalidSignature(detail: string): DomainError {
  return new DomainError('INVALID_SIGNATURE', detail);
}
