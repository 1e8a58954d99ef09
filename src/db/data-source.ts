/**
 * The TypeORM data source: explicit entities and migrations (no globbing, so
 * the compiled build and ts-jest see the same list), never `synchronize`.
 */
import 'reflect-metadata';
import { DataSource, type MixedList, type EntitySchema } from 'typeorm';
import { PREPARED_PLAN_OPTIONS } from './prepared.js';

/** What a data source needs from the wiring layer. */
export interface DataSourceOptions {
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
}

/** Create (not yet initialised) a PostgreSQL data source. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: opts.entities,
    migrations: opts.migrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: opts.poolSize ?? 20,
    applicationName: opts.applicationName ?? 'tds',
    extra: {
      // Fail fast instead of hanging when the database is gone; the edge answers 503.
      connectionTimeoutMillis: 10000,
      statement_timeout: 15000,
      query_timeout: 20000,
      // The hot path's named statements are planned once per connection (see prepared.ts).
      options: PREPARED_PLAN_OPTIONS,
    },
  });
}

/** Initialise the data source and apply pending migrations, each in its own transaction. */
export async function openDatabase(ds: DataSource): Promise<DataSource> {
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}

/** True when the database answers a trivial query within the pool's timeout. */
export async function isDatabaseReachable(ds: DataSource): Promise<boolean> {
  try {
    await ds.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
