/**
 * The benchmark's PostgreSQL: an embedded server in a temporary directory, or
 * (with DATABASE_URL) a fresh database `tds_bench_<timestamp>` on the given
 * server, so a run never measures against leftovers and never touches
 * existing data. drop() removes what the run created.
 */
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/db/embedded-postgres.js';

/** Where the run's database lives and how to get rid of it. */
export interface BenchDatabase {
  /** Connection URL of the fresh database. */
  url: string;
  /** 'embedded' or 'DATABASE_URL'. */
  source: 'embedded' | 'DATABASE_URL';
  /** Result of SELECT version(). */
  serverVersion: string;
  /** Drops the database (DATABASE_URL) or stops the embedded server; safe to call twice. */
  drop(): Promise<void>;
}

/** The URL of another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A connected pg client whose connection-level errors (the server shutting
 * down while the run is being interrupted) do not crash the process: they
 * surface as the rejection of the next query instead of an unhandled event.
 */
export async function connectClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function adminQuery(url: string, sql: string): Promise<pg.QueryResult> {
  const c = await connectClient(url);
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * Starts or connects to the server and creates the run's database.
 * `baseDir` holds the embedded cluster (it is the caller's temp dir).
 */
export async function openBenchDatabase(baseDir: string, env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<BenchDatabase> {
  let embedded: EmbeddedServer | undefined;
  let serverUrl = env.DATABASE_URL || undefined;
  if (!serverUrl) {
    log('starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(baseDir);
    serverUrl = embedded.url;
  }
  // A timestamp name: unique per run, and recognisable if a killed run leaves one behind.
  const name = `tds_bench_${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 17)}`;
  try {
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  } catch (e) {
    await embedded?.stop().catch(() => undefined);
    throw e;
  }
  const url = withDatabase(serverUrl, name);
  const version = (await adminQuery(url, 'SELECT version() AS v')).rows[0] as { v: string };
  let dropped = false;
  return {
    url,
    source: embedded ? 'embedded' : 'DATABASE_URL',
    serverVersion: version.v,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      if (embedded) {
        // The whole cluster goes with the temp dir: no need to drop the database first.
        await embedded.stop();
        return;
      }
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
