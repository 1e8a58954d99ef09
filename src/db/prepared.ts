/**
 * Named prepared statements on the hot paths (authentication, release):
 * PostgreSQL parses and plans each once per connection instead of once per
 * request. TypeORM's query() cannot name a statement, so this takes the pg
 * connection through the public QueryRunner API (connect() returns the driver's
 * connection) and runs the statement there with pg's QueryConfig. Everything
 * else goes through TypeORM as usual.
 *
 * Every connection plans those statements generically (PREPARED_PLAN_OPTIONS):
 * with the default plan_cache_mode PostgreSQL compares the generic plan's
 * estimate with its custom ones and, for the release path's ruled read (a
 * dozen CTEs and sub-plans, ~1 ms to plan, ~0.3 ms to run), kept re-planning
 * on every execution; a generic plan is made once per connection. Only named
 * statements are affected: unnamed ones are always planned with their values.
 */
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { PoolClient, QueryResult } from 'pg';

async function runOn<T>(runner: QueryRunner, name: string, text: string, values: unknown[]): Promise<T[]> {
  const client = (await runner.connect()) as PoolClient;
  const result: QueryResult = await client.query({ name, text, values });
  return result.rows as T[];
}

/**
 * Run a named prepared statement and resolve to its rows: on the data source
 * (a pooled connection of its own, released afterwards) or inside the
 * transaction of an EntityManager (on that transaction's connection). Errors
 * are pg's own (`code`, `constraint`), not TypeORM's QueryFailedError.
 */
export async function preparedQuery<T>(on: DataSource | EntityManager, name: string, text: string, values: unknown[]): Promise<T[]> {
  const manager = 'manager' in on ? on.manager : on;
  if (manager.queryRunner) return runOn<T>(manager.queryRunner, name, text, values);
  const runner = manager.dataSource.createQueryRunner();
  try {
    return await runOn<T>(runner, name, text, values);
  } finally {
    await runner.release();
  }
}

/** Connection start-up options (libpq `options`): prepared statements get one generic plan per connection. */
export const PREPARED_PLAN_OPTIONS = '-c plan_cache_mode=force_generic_plan';
