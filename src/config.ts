/**
 * Configuration, read once from the environment and checked before anything
 * listens. Every bad variable is named in one error so an operator fixes them
 * all in one go.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fromBase64, sha256, toHex, utf8 } from './crypto/sha256.js';

/** The checked, frozen configuration of one service process. */
export interface Config {
  readonly port: number;
  /** Interface the service listens on (HOST; default 0.0.0.0, every interface). */
  readonly host: string;
  /** /metrics: `public` (the SPEC default), `off` (not served). */
  readonly metrics: 'public' | 'off';
  /** When set, /metrics answers only `Authorization: Bearer <token>` (TDS_METRICS_TOKEN). */
  readonly metricsToken: string | undefined;
  /** Registrations per minute from one source address, and in total (429 beyond). */
  readonly registrationsPerMinutePerAddress: number;
  readonly registrationsPerMinute: number;
  /** Most participants that may wait for approval at once (429 beyond). */
  readonly maxPendingParticipants: number;
  /** Unset: run an embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly audience: string;
  readonly devMode: boolean;
  /** Origin line of ledger checkpoints (C2SP tlog-checkpoint), also the note key name. */
  readonly ledgerOrigin: string;
  readonly logLevel: string;
  /** Pool size of the PostgreSQL connection pool, per serving process. */
  readonly dbPoolSize: number;
  /**
   * Serving processes (TDS_WORKERS). 1: one process does everything. N > 1: a
   * primary process (embedded database, migrations, operator, background work)
   * and N node:cluster workers serving HTTP on the one port.
   */
  readonly workers: number;
  /** How long a data node holds a claimed compute job before another claim may take it over (TDS_JOB_LEASE_SECONDS). */
  readonly jobLeaseSeconds: number;
  /** Witnesses every new checkpoint is submitted to (TDS_WITNESSES): submission prefix and cosigner vkey. */
  readonly witnesses: ReadonlyArray<WitnessEndpoint>;
  /** Replay refusal of read-only requests' tokens: `process` (per-process memory, the default with one process) or `durable` (recorded in PostgreSQL like writes; the default when TDS_WORKERS > 1). TDS_READ_TOKEN_REPLAY. */
  readonly readTokenReplay: 'process' | 'durable';
}

/** One witness: `url` is its submission prefix (the service POSTs to `<url>/add-checkpoint`), `vkey` its cosignature/v1 verifier key. */
export interface WitnessEndpoint {
  readonly url: string;
  readonly vkey: string;
}

/** Raised when the environment cannot be turned into a Config; `problems` names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Default TDS_DB_POOL_SIZE: connections per serving process, 2 × cores + 1
 * (5 on the 2-core reference machine). Measured there (`npm run bench --
 * --matrix`, README "Performance"): 5 connections gave ~1,130 jobs/s at 32
 * clients against ~950 with 10 or 20; more backends than the cores can run
 * only contend for them, and the requests wait in the pool instead.
 */
export const DEFAULT_DB_POOL_SIZE = 2 * availableParallelism() + 1;
/** Upper bound of TDS_WORKERS; each worker holds its own pool, so workers × pool must stay under the server's max_connections. */
export const MAX_WORKERS = 64;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

/** True for a self-consistent cosignature/v1 vkey: name+<hex id>+base64(0x04 || 32-byte key), id = SHA-256(name \n 0x04 key)[:4]. */
function isCosignerKey(vkey: string): boolean {
  const m = /^([^\s+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  if (!m) return false;
  try {
    const key = fromBase64(m[3]);
    return key.length === 33 && key[0] === 0x04 && toHex(sha256(utf8(m[1]), new Uint8Array([0x0a]), key).slice(0, 4)) === m[2];
  } catch {
    return false;
  }
}

/** TDS_WITNESSES: a JSON array of {url, vkey} with http(s) URLs and distinct cosigner keys; problems are pushed, never thrown. */
function witnessesVar(raw: string | undefined, problems: string[]): WitnessEndpoint[] {
  if (raw === undefined || raw.trim() === '') return [];
  const bad = (why: string): WitnessEndpoint[] => {
    problems.push(`TDS_WITNESSES must be a JSON array of {"url": "https://...", "vkey": "<name>+<key id>+<key>"}: ${why}`);
    return [];
  };
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return bad('not JSON');
  }
  if (!Array.isArray(list)) return bad('not an array');
  const out: WitnessEndpoint[] = [];
  for (const [i, w] of list.entries()) {
    if (typeof w !== 'object' || w === null || Array.isArray(w) || Object.keys(w).some((k) => k !== 'url' && k !== 'vkey')) return bad(`item ${i} must be an object with url and vkey only`);
    const { url, vkey } = w as { url?: unknown; vkey?: unknown };
    let u: URL;
    try {
      u = new URL(String(url));
    } catch {
      return bad(`item ${i} url is not a URL`);
    }
    if (typeof url !== 'string' || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash) return bad(`item ${i} url must be an http(s) URL without query`);
    if (typeof vkey !== 'string' || !isCosignerKey(vkey)) return bad(`item ${i} vkey is not a witness verifier key (type 0x04, as \`tds witness vkey\` prints)`);
    if (out.some((o) => o.vkey.split('+')[0] === vkey.split('+')[0])) return bad(`item ${i} repeats the witness name ${vkey.split('+')[0]}`);
    out.push(Object.freeze({ url: url.replace(/\/+$/, ''), vkey }));
  }
  return out;
}

/** Read and check the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const port = intVar(env, 'PORT', 8080, 0, 65535, problems);
  const dbPoolSize = intVar(env, 'TDS_DB_POOL_SIZE', DEFAULT_DB_POOL_SIZE, 1, 500, problems);
  const workers = intVar(env, 'TDS_WORKERS', 1, 1, MAX_WORKERS, problems);
  const jobLeaseSeconds = intVar(env, 'TDS_JOB_LEASE_SECONDS', 60, 1, 86_400, problems);
  const registrationsPerMinutePerAddress = intVar(env, 'TDS_REGISTRATIONS_PER_MINUTE_PER_ADDRESS', 10, 1, 1_000_000, problems);
  const registrationsPerMinute = intVar(env, 'TDS_REGISTRATIONS_PER_MINUTE', 60, 1, 1_000_000, problems);
  const maxPendingParticipants = intVar(env, 'TDS_MAX_PENDING_PARTICIPANTS', 1000, 1, 10_000_000, problems);

  let databaseUrl: string | undefined = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined) {
    try {
      const u = new URL(databaseUrl);
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('scheme');
    } catch {
      problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
      databaseUrl = undefined;
    }
  }

  const dataDir = path.resolve(env.TDS_DATA_DIR || './.tds');
  const audience = env.TDS_AUDIENCE ?? 'tds';
  if (!/^[\x21-\x7e]{1,200}$/.test(audience)) problems.push('TDS_AUDIENCE must be 1-200 printable characters without spaces');

  const devRaw = env.TDS_DEV_MODE ?? 'false';
  if (devRaw !== 'true' && devRaw !== 'false') problems.push(`TDS_DEV_MODE must be "true" or "false", got "${devRaw}"`);

  const ledgerOrigin = env.TDS_LEDGER_ORIGIN ?? 'tds.local/ledger';
  // The origin is the first line of a signed note and the key name: no spaces, no '+'.
  if (!/^[\x21-\x2a\x2c-\x7e]{1,128}$/.test(ledgerOrigin)) problems.push('TDS_LEDGER_ORIGIN must be 1-128 printable characters without spaces or "+"');

  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const witnesses = Object.freeze(witnessesVar(env.TDS_WITNESSES, problems));

  const host = env.HOST || '0.0.0.0';
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) problems.push(`HOST must be an IP address or a host name, got "${host}"`);
  const metrics = env.TDS_METRICS || 'public';
  if (metrics !== 'public' && metrics !== 'off') problems.push(`TDS_METRICS must be "public" or "off", got "${metrics}"`);
  // Several worker processes share one port, so a replayed read would reach another process's memory:
  // with TDS_WORKERS > 1 reads are recorded durably unless the operator explicitly chooses `process`.
  const readTokenReplay = env.TDS_READ_TOKEN_REPLAY || (workers > 1 ? 'durable' : 'process');
  if (readTokenReplay !== 'process' && readTokenReplay !== 'durable') problems.push(`TDS_READ_TOKEN_REPLAY must be "process" or "durable", got "${readTokenReplay}"`);
  const metricsToken = env.TDS_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(metricsToken)) problems.push('TDS_METRICS_TOKEN must be 16-200 printable characters without spaces');

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ port, host, registrationsPerMinutePerAddress, registrationsPerMinute, maxPendingParticipants, metrics: metrics as 'public' | 'off', metricsToken, databaseUrl, dataDir, audience, devMode: devRaw === 'true', ledgerOrigin, logLevel, dbPoolSize, workers, witnesses, jobLeaseSeconds, readTokenReplay: readTokenReplay as 'process' | 'durable' });
}
