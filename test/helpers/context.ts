/**
 * A test context: its own database copied from the migrated template, its own
 * data directory, the real services and app, and the operator's credentials.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createDataSource, openDatabase } from '../../src/db/data-source.js';
import { migrations } from '../../migrations/index.js';
import { createServices, entities, type Services } from '../../src/services.js';
import { startBackgroundWork } from '../../src/background.js';
import { loadServiceKeys, type ServiceKeys } from '../../src/service-keys.js';
import { loadSchemas } from '../../src/http/validation.js';
import { ensureOperator, type OperatorCredentials } from '../../src/participants/bootstrap-operator.js';
import { buildApp } from '../../src/app.js';
import type { Signer } from '../../src/client/request-token.js';

/** Everything a test needs to drive the real app on its own database. */
export interface TestContext {
  app: Express;
  ds: DataSource;
  services: Services;
  config: Config;
  keys: ServiceKeys;
  operator: Signer;
  databaseUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

/** URL of a database on the test server. */
export function databaseUrl(db: string): string {
  const u = new URL(process.env.TDS_TEST_ADMIN_URL!);
  u.pathname = `/${db}`;
  return u.toString();
}

// Serialises template migration and copying across the parallel test workers.
const TEMPLATE_LOCK = 88_120_731;

/**
 * Create a fresh database copied from the template; returns its URL. The
 * first caller migrates the template (global setup cannot load our sources).
 */
export async function createTestDatabase(): Promise<string> {
  const template = process.env.TDS_TEST_TEMPLATE!;
  const db = `${template}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.TDS_TEST_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const tpl = new pg.Client({ connectionString: databaseUrl(template) });
    await tpl.connect();
    const migrated = (await tpl.query(`SELECT to_regclass('public.migrations') IS NOT NULL AS ok`)).rows[0].ok as boolean;
    await tpl.end();
    if (!migrated) {
      const ds = createDataSource({ url: databaseUrl(template), entities, migrations, poolSize: 1 });
      await openDatabase(ds);
      await ds.destroy();
    }
    await admin.query(`CREATE DATABASE ${db} TEMPLATE ${template}`);
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => undefined);
    await admin.end();
  }
  return databaseUrl(db);
}

/** Build a context; `env` overrides configuration variables. */
export async function createTestContext(env: Record<string, string> = {}, opts: { background?: boolean } = {}): Promise<TestContext> {
  const url = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-test-data-'));
  const config = loadConfig({ DATABASE_URL: url, TDS_DATA_DIR: dataDir, TDS_DEV_MODE: 'true', LOG_LEVEL: 'silent', TDS_DB_POOL_SIZE: '10', TDS_REGISTRATIONS_PER_MINUTE_PER_ADDRESS: '1000000', TDS_REGISTRATIONS_PER_MINUTE: '1000000', ...env });
  const ds = createDataSource({ url, entities, migrations, poolSize: config.dbPoolSize });
  await openDatabase(ds);
  const keys = await loadServiceKeys(dataDir);
  const logger = pino({ level: process.env.TDS_TEST_LOG ?? 'silent' });
  const services = createServices(ds, config, keys, logger);
  await ensureOperator(ds, services.participants, dataDir);
  const background = opts.background ? startBackgroundWork(services, logger) : undefined;
  const app = buildApp({ config, ds, logger, keys, schemas: loadSchemas(), services });
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'operator.json'), 'utf8')) as OperatorCredentials;
  return {
    app,
    ds,
    services,
    config,
    keys,
    operator: { iss: creds.id, kid: creds.kid, privateJwk: creds.privateJwk },
    databaseUrl: url,
    dataDir,
    close: async () => {
      await background?.stop();
      await ds.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Row count of a table (to prove that a refused request wrote nothing). */
export async function countRows(ds: DataSource, table: string): Promise<number> {
  const r = (await ds.query(`SELECT count(*)::int AS n FROM ${table}`)) as Array<{ n: number }>;
  return r[0]!.n;
}

/** Row counts of every table that requests can write. */
export async function snapshotCounts(ds: DataSource): Promise<Record<string, number>> {
  const tables = ['participants', 'participant_keys', 'datasets', 'offers', 'contracts', 'contract_documents', 'contract_signatures', 'reciprocity_rules', 'jobs', 'job_results', 'job_reviews', 'ledger_queue', 'ledger_entries', 'statements'];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = await countRows(ds, t);
  return out;
}
