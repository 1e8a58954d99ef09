/**
 * The console's calls to the service: each /v1 request carries a fresh token
 * signed in this page by src/client/request-token.ts, the module the CLI signs
 * with (EdDSA, htm/htu bound to this call, new jti, kid = key thumbprint).
 * Problem answers become ApiError with the problem's code and detail, which
 * every page shows as they are.
 */
import { signRequestToken } from '../../client/request-token.js';
import { signer } from './session.js';

/** An error answer of the API (RFC 9457 problem). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly hint: string | undefined,
    readonly problem: unknown,
  ) {
    super(`${code}: ${detail}`);
  }
}

let audience = 'tds';

/** Learn the service's token audience (GET /console/config.json, public). */
export async function loadConfig(): Promise<void> {
  const res = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
  if (res.ok) {
    const c = (await res.json()) as { audience?: unknown };
    if (typeof c.audience === 'string') audience = c.audience;
  }
}

/** A signed request; `path` includes any query string (the token binds the path without it). */
export async function call<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const s = signer();
  if (!s) throw new Error('load your key file first');
  const token = await signRequestToken(s, method, path.split('?')[0]!, { audience });
  const init: RequestInit = { method, headers: { accept: 'application/json, application/problem+json, text/plain', authorization: `Bearer ${token}`, ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Error(`the service did not answer (${(e as Error).message}); is it running?`, { cause: e });
  }
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  const parsed: unknown = type.includes('json') && text !== '' ? safeJson(text) : text;
  if (!res.ok) {
    const p = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    throw new ApiError(res.status, str(p.code) ?? `HTTP_${res.status}`, str(p.title) ?? res.statusText, str(p.detail) ?? (text.slice(0, 300) || res.statusText), str(p.hint) ?? str(p.guidance), parsed);
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Query string from the non-empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A keyset-paginated list answer. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
