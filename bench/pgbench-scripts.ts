/**
 * The two pgbench scripts. `hot-path` is the issue's database ceiling: only
 * the writes that must happen per job (counter UPDATE + ledger INSERT).
 * `job-path` replays the statements the service sends for one POST /v1/jobs
 * (checked with log_statement=all) against the service's own tables and
 * seeded rows: the database's share of the real path, which tells how much
 * of the gap is PostgreSQL and how much Node.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { READ_RELEASE_FACTS, RELEASE } from '../src/jobs/release-statements.js';

/** The schema the benchmark's own tables live in. */
export const SCHEMA = 'pgbench_hot';

/**
 * A script: `build` creates what it needs (once, before pgbench) and returns
 * the script text, or several texts of which pgbench picks one at random
 * (equal weights) for each transaction.
 */
export interface PgbenchScript {
  name: 'hot-path' | 'job-path';
  /**
   * pgbench's -M: 'prepared' because the service sends its hot-path
   * statements as named prepared statements (src/db/prepared.ts), so the
   * ceiling and the replay get the same plan caching the service has.
   */
  mode: 'prepared' | 'extended';
  build(c: pg.Client): Promise<string | string[]>;
}

/**
 * JSON text without `:` directly before a letter or digit: pgbench reads
 * `:name` as a variable even inside string literals. Colons in strings become
 * \u003a (the same jsonb value), structural ones get a following space.
 */
function pgbenchJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v).replace(/:/g, '\\u003a');
  if (Array.isArray(v)) return `[${v.map(pgbenchJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pgbenchJson(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

/** A job.authorized event's data, the size the service writes. */
function eventData(): Record<string, unknown> {
  return {
    purpose: 'DUO:0000006', sha256: 'a'.repeat(64), invocation: 12345, remaining: 999987655, releaseJti: randomUUID(),
    releaseExpiresAt: new Date().toISOString(), reciprocity: [],
  };
}

/** Counter UPDATE on a random one of `rows` rows plus one ledger_queue INSERT, in one transaction. */
export function hotPathScript(rows: number): PgbenchScript {
  const subjects = { job: randomUUID(), contract: randomUUID(), dataset: randomUUID(), provider: randomUUID(), consumer: randomUUID() };
  const text = [
      `\\set id random(1, ${rows})`,
      'BEGIN;',
      `UPDATE ${SCHEMA}.bench_counter SET n = n + 1 WHERE id = :id;`,
      `INSERT INTO ${SCHEMA}.ledger_queue (kind, actor, subjects, data) VALUES ('job.authorized', '${randomUUID()}', '${pgbenchJson(subjects)}', '${pgbenchJson(eventData())}');`,
      'END;',
      '',
    ].join('\n');
  return {
    name: 'hot-path',
    mode: 'prepared',
    build: async (c) => {
      await c.query(`CREATE TABLE ${SCHEMA}.bench_counter (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)`);
      await c.query(`INSERT INTO ${SCHEMA}.bench_counter (id) SELECT generate_series(1, $1::int)`, [rows]);
      // Same columns, defaults and key as the CreateLedger migration.
      await c.query(`CREATE TABLE ${SCHEMA}.ledger_queue (
        id bigserial PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor text NOT NULL, subjects jsonb NOT NULL, data jsonb NOT NULL)`);
      await c.query(`VACUUM ANALYZE ${SCHEMA}.bench_counter`);
      return text;
    },
  };
}

// The authentication statement of ParticipantsService.recordUseAndReadState (not exported there, so copied).
const AUTH = `WITH used AS (INSERT INTO used_tokens (issuer, jti, expires_at) VALUES ($2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1)
       SELECT k.revoked_at, p.status, p.roles, EXISTS (SELECT 1 FROM used) AS fresh
         FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = $1`;

/** A SQL string literal whose text has no ':' (E-string with \x3a), so pgbench sees no variable in it. */
const literal = (v: string): string => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/:/g, '\\x3a')}'`;

/** Replaces $n placeholders with the given SQL expressions. */
function bind(sql: string, values: Record<number, string>): string {
  return sql.replace(/\$(\d+)/g, (m, n: string) => {
    const v = values[Number(n)];
    if (v === undefined) throw new Error(`no value for ${m}`);
    return v;
  });
}

/**
 * The statements the service sends for one POST /v1/jobs today, in order and
 * each in its own implicit transaction as the service runs them: the
 * authentication statement (jti recorded, key state read), the one-statement
 * fact read and the one-statement atomic release, taken from
 * src/jobs/release-statements.ts so the replay follows the code. One script
 * per seeded contract with its ids inlined (pgbench picks one at random per
 * transaction), so no lookup statement is added; only the job id and jti
 * vary per transaction. Writes real rows in the run's throw-away database.
 */
export function jobPathScript(): PgbenchScript {
  const data = { purpose: 'DUO:0000006', sha256: 'a'.repeat(64), releaseJti: randomUUID(), releaseExpiresAt: new Date().toISOString(), reciprocity: [] };
  const release = { token: `eyJ${'x'.repeat(560)}`, url: 'https://data.hospital.example/bench.csv', sha256: 'a'.repeat(64), byteSize: 10, mediaType: 'text/csv', expiresAt: new Date().toISOString(), jti: randomUUID() };
  return {
    name: 'job-path',
    mode: 'prepared',
    build: async (c) => {
      const rows = (await c.query(
        `SELECT c.id, c.consumer_id, c.provider_id, c.dataset_id, d.research_field, k.kid
           FROM contracts c JOIN datasets d ON d.id = c.dataset_id
           JOIN participant_keys k ON k.participant_id = c.consumer_id AND k.revoked_at IS NULL
          WHERE c.state = 'active' ORDER BY c.id`,
      )).rows as Array<{ id: string; consumer_id: string; provider_id: string; dataset_id: string; research_field: string; kid: string }>;
      if (rows.length === 0) throw new Error('no active seeded contracts to replay the job path on');
      const job = 'md5(:rnd::text)::uuid';
      return rows.map((r) => {
        const subjects = `jsonb_build_object('job', ${job}, 'contract', '${r.id}', 'dataset', '${r.dataset_id}', 'provider', '${r.provider_id}', 'consumer', '${r.consumer_id}')`;
        const text = [
          '\\set rnd random(1, 9000000000000000000)',
          `${bind(AUTH, { 1: literal(r.kid), 2: `'${r.consumer_id}'`, 3: "md5(:rnd::text || 'jti')", 4: "now() + interval '330 seconds'" })};`,
          `${bind(READ_RELEASE_FACTS, { 1: `'${r.id}'` })};`,
          `${bind(RELEASE, { 1: `'${r.id}'`, 2: `'${r.consumer_id}'`, 3: job, 4: literal(r.research_field), 5: literal('DUO:0000006'), 6: 'NULL', 7: `'${'b'.repeat(64)}'`, 8: `'${pgbenchJson(release)}'`, 9: subjects, 10: `'${pgbenchJson(data)}'` })};`,
          '',
        ].join('\n');
        // Any other `:word` would be taken for a variable: fail here rather than measure an error loop.
        const stray = text.replace(/:rnd\b/g, '').replace(/::/g, '').match(/:[A-Za-z0-9_]/);
        if (stray) throw new Error(`job-path script has a stray pgbench variable near ${stray.index}`);
        return text;
      });
    },
  };
}
