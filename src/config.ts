/**
 * Configuration, read once from the environment and checked before anything
 * listens. Every bad variable is named in one error so an operator fixes them
 * all in one go.
 */
import path from 'node:path';

/** The checked, frozen configuration of one service process. */
export interface Config {
  readonly port: number;
  /** Unset: run an embedded PostgreSQL under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly audience: string;
  readonly devMode: boolean;
  /** Origin line of ledger checkpoints (C2SP tlog-checkpoint), also the note key name. */
  readonly ledgerOrigin: string;
  readonly logLevel: string;
  /** Pool size of the PostgreSQL connection pool. */
  readonly dbPoolSize: number;
}

/** Raised when the environment cannot be turned into a Config; `problems` names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

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

/** Read and check the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const port = intVar(env, 'PORT', 8080, 0, 65535, problems);
  const dbPoolSize = intVar(env, 'TDS_DB_POOL_SIZE', 20, 1, 500, problems);

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

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ port, databaseUrl, dataDir, audience, devMode: devRaw === 'true', ledgerOrigin, logLevel, dbPoolSize });
}
