/**
 * Named prepared statements on the hot paths (authentication, release):
 * PostgreSQL parses and plans each once per connection instead of once per
 * request, and the call skips TypeORM's per-query bookkeeping. Everything
 * else goes through TypeORM as usual.
 */
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';

/** Run a named prepared statement on the data source's own pool; resolves to its rows. */
export async function preparedQuery<T>(ds: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (ds.driver as unknown as { master: Pool }).master;
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}
