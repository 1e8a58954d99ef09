/**
 * The HTTP edge of errors: one table maps stable codes to statuses, and every
 * failure leaves as RFC 9457 application/problem+json. Unknown errors become a
 * generic 500 (logged with their cause, never shown to the client).
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { DomainError, internalError, unsupportedMediaType, validationFailed, type ErrorCode } from '../errors.js';

/** HTTP status of every error code: the only place statuses are chosen. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MALFORMED_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  AUTH_REQUIRED: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_LIFETIME_TOO_LONG: 401,
  TOKEN_AUDIENCE_MISMATCH: 401,
  TOKEN_ISSUER_MISMATCH: 401,
  TOKEN_BINDING_MISMATCH: 401,
  TOKEN_REPLAYED: 401,
  UNKNOWN_KEY: 401,
  KEY_ROTATED: 401,
  PARTICIPANT_NOT_ACTIVE: 401,
  FORBIDDEN: 403,
  ROLE_REQUIRED: 403,
  NOT_OWNER: 403,
  CONTRACT_EXHAUSTED: 403,
  CONTRACT_EXPIRED: 403,
  CONTRACT_NOT_ACTIVE: 403,
  CONTRACT_REVOKED: 403,
  PURPOSE_NOT_ALLOWED: 403,
  RECIPROCITY_UNMET: 403,
  DATASET_WITHDRAWN: 403,
  PARTICIPANT_SUSPENDED: 403,
  OFFER_NOT_ACTIVE: 403,
  TERMS_EXCEED_OFFER: 403,
  INVALID_SIGNATURE: 400,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  KEY_ALREADY_REGISTERED: 409,
  INVALID_STATE_TRANSITION: 409,
  SIGNATURE_OUT_OF_ORDER: 409,
  ALREADY_SIGNED: 409,
  RECEIPT_PENDING: 409,
  SIGNING_KEY_ROTATED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  UNKNOWN_RULE: 422,
  RESULT_NOT_AVAILABLE: 409,
  ALREADY_REVIEWED: 409,
  RESULT_MISMATCH: 422,
  ATTESTATION_MISMATCH: 422,
  OUTPUT_POLICY_VIOLATION: 422,
  RATE_LIMITED: 429,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 409: 'Conflict',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** The status and RFC 9457 document of a DomainError. */
export function problemOf(err: DomainError): { status: number; body: Record<string, unknown> } {
  const status = STATUS_BY_CODE[err.code];
  return {
    status,
    body: {
      type: `https://tds.example/problems/${err.code.toLowerCase().replace(/_/g, '-')}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail: err.detail,
      code: err.code,
      ...err.extensions,
    },
  };
}

/** Write a problem document for a DomainError. */
export function sendProblem(res: Response, err: DomainError): void {
  const { status, body } = problemOf(err);
  res.status(status).type('application/problem+json').json(body);
}

// SQLSTATEs that mean "the database is away or refusing work", by class: 08 connection exception,
// 53 insufficient resources (too many connections, out of memory or disk), 57P0x operator intervention
// (admin/crash shutdown, cannot connect now, database dropped, idle session timeout), and 55000 (what a
// database set to ALLOW_CONNECTIONS false answers on connect).
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53)[0-9A-Z]{3}$/.test(code) || /^57P0[0-9]$/.test(code) || code === '55000';
}

// Driver-level connection failures (node's socket errors), whatever the SQL layer wraps them in.
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** True when err (or the driver error it wraps) says the database cannot be reached or is refusing work: a retryable 503. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; driverError?: unknown; cause?: unknown };
  if (e?.driverError && e.driverError !== err && isDatabaseUnavailable(e.driverError)) return true;
  if (e?.cause && e.cause !== err && typeof e.cause === 'object' && isDatabaseUnavailable(e.cause)) return true;
  // TypeORM releases a transaction's connection when the server drops it mid-request.
  const name = (err as { constructor?: { name?: string }; name?: string })?.constructor?.name ?? '';
  if (['QueryRunnerProviderAlreadyReleasedError', 'ConnectionIsNotSetError', 'CannotConnectAlreadyConnectedError'].includes(name)) return true;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECTION_ERRNOS.has(code) || isUnavailableSqlState(code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)|connect ECONNREFUSED|Connection is not established|is not currently accepting connections/i.test(msg);
}

// SQLSTATE class 22 (data exception: invalid text, numeric out of range, bad datetime) means a value from
// the request reached the database unchecked: still the caller's bad input, so a 400, never a 500 (the edge
// guard and the schemas should have caught it; this is the net under them, and it is logged).
function isDataException(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** Turn anything thrown into a DomainError the client may see. */
export function toDomainError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const e = err as { type?: string; status?: number; expose?: boolean };
  // body-parser errors carry a type and an exposable status.
  if (e?.type === 'entity.parse.failed') return new DomainError('MALFORMED_JSON', 'the request body is not valid JSON');
  if (e?.type === 'entity.too.large') return new DomainError('PAYLOAD_TOO_LARGE', 'the request body is larger than the limit');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return unsupportedMediaType('unsupported body encoding');
  // The router's decoding of a path parameter ('%ZZ', an overlong or surrogate sequence) where a route's own
  // middleware runs before the input guard: the same refusal the guard gives.
  if (err instanceof URIError) return validationFailed('the request path is not valid percent-encoded UTF-8', [{ pointer: '/path', message: 'is not valid percent-encoded UTF-8' }]);
  if (e?.status && e.status >= 400 && e.status < 500 && e.expose) return new DomainError('VALIDATION_FAILED', 'the request could not be read');
  if (isDatabaseUnavailable(err)) return new DomainError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later');
  if (isDataException(err)) return validationFailed('a value in the request is not valid for its field');
  return undefined;
}

/** The last middleware: problem+json for every error, a generic 500 for the unexpected. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const domain = toDomainError(err);
    if (domain) {
      if (domain.code === 'VALIDATION_FAILED' && isDataException(err)) logger.warn({ err, path: req.path }, 'bad input reached the database');
      if (domain.code === 'DATABASE_UNAVAILABLE') {
        logger.warn({ err, path: req.path }, 'database unavailable');
        res.setHeader('Retry-After', '2');
      }
      if (domain.code === 'RATE_LIMITED' && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', '1');
      return sendProblem(res, domain);
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
    sendProblem(res, internalError('an unexpected error occurred'));
  };
}
