/**
 * The one place that turns an answer or a failure into words: a problem+json
 * body into `{code, detail}`, a network failure into a line that says what
 * usually causes it, any error into the one line the CLI prints. The client,
 * the job runner (gateway refusals) and the verifier all use it, so an error
 * reads the same whichever command met it.
 */

/** The stable code and the detail of an error answer; HTTP_<status> and the start of the body when it is not a problem. */
export function problemOf(status: number, text: string, statusText = ''): { code: string; detail: string; body: unknown } {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const p = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; detail?: unknown; title?: unknown };
  const code = typeof p.code === 'string' ? p.code : `HTTP_${status}`;
  const detail = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : text.slice(0, 200) || statusText;
  return { code, detail, body };
}

/** What a node network error code usually means, and what to try. */
const NETWORK_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: is the service running, and is the URL (--service / TDS_URL) right?',
  ENOTFOUND: 'the host name does not resolve: check the URL',
  ETIMEDOUT: 'no answer in time: check the URL and the network',
  UND_ERR_CONNECT_TIMEOUT: 'no connection in time: check the URL and the network',
  UND_ERR_HEADERS_TIMEOUT: 'the service did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'the service did not finish its answer in time',
  EHOSTUNREACH: 'the host cannot be reached: check the URL and the network',
  ENETUNREACH: 'the network cannot be reached',
  ECONNRESET: 'the connection was dropped',
  EPIPE: 'the connection was dropped',
  UND_ERR_SOCKET: 'the connection was dropped',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server uses a self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server uses a certificate from a private CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server uses a certificate from a private CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server uses a certificate from a private CA',
  CERT_HAS_EXPIRED: 'the server\'s certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is not for this host name',
};
const CERT_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/** The node error code of a failed request (fetch hides it in `cause`). */
export function networkCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof err?.cause?.code === 'string' ? err.cause.code : typeof err?.code === 'string' ? err.code : undefined;
  return code;
}

/** Failures where the request certainly never reached the server (nothing to retry idempotently, nothing to check). */
const NOT_SENT = new Set([...CERT_CODES, 'ENOTFOUND', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * A network failure as one line: `cannot reach URL: CODE` and, when the code
 * has a usual cause, what to do. `caHint` says how this caller trusts a private
 * CA or a self-signed certificate (`--ca FILE`); `retryHint` is added for
 * calls that are safe to retry (a job request with its Idempotency-Key), on
 * every failure where the request may have been sent (connection refused,
 * dropped, timed out); `maybeReceivedHint` for other calls that change state,
 * when the request may have reached the server (not when it was refused).
 */
export function networkErrorMessage(target: string, e: unknown, opts: { caHint?: string; retryHint?: string; maybeReceivedHint?: string } = {}): string {
  const code = networkCode(e);
  const cause = (e as { cause?: { message?: string } })?.cause;
  const what = code ?? cause?.message ?? (e as Error)?.message ?? String(e);
  const hints: string[] = [];
  if (code && NETWORK_HINTS[code]) hints.push(NETWORK_HINTS[code]!);
  if (code && CERT_CODES.has(code) && opts.caHint) hints.push(opts.caHint);
  if (opts.retryHint && code && !NOT_SENT.has(code)) hints.push(opts.retryHint);
  else if (opts.maybeReceivedHint && code && !NOT_SENT.has(code) && code !== 'ECONNREFUSED') hints.push(opts.maybeReceivedHint);
  return `cannot reach ${target}: ${what}${hints.length ? ` (${hints.join('; ')})` : ''}`;
}

/** Any error as the one line the CLI prints: `CODE: detail` for API problems, the first line of the message otherwise. */
export function errorLine(e: unknown): string {
  const api = e as { code?: unknown; detail?: unknown; name?: unknown };
  if (api?.name === 'TdsApiError' && typeof api.code === 'string') return `${api.code}: ${String(api.detail)}`;
  if (e instanceof Error) return e.message.split('\n')[0]!;
  return String(e);
}
