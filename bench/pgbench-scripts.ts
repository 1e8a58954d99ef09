/**
 * The two pgbench scripts. `hot-path` is the issue's database ceiling: only
 * the writes that must happen per job (counter UPDATE + ledger INSERT).
 * `job-path` replays the statements the service sends for one POST /v1/jobs
 * (recorded from the service's own code, job-path-recorder.ts) against the
 * service's own tables and seeded rows: the database's share of the real
 * path, which tells how much of the gap is PostgreSQL and how much Node, and
 * so the service's ceiling. `job-path-rules` is the same on contracts whose
 * dataset is governed by reciprocity rules.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parameterTypes, scriptOfRecording, type RecordedJob, type RecordedStatement } from './job-path-recorder.js';
import { BATCH_JSON_VALUES, batchRows, RELEASE_AS_CALLER, RELEASE_AS_CALLER_RULED, RELEASE_BATCH_AS_CALLER, RELEASE_BATCH_AS_CALLER_RULED } from '../src/jobs/release.store.js';

/** The schema the benchmark's own tables live in. */
export const SCHEMA = 'pgbench_hot';

/**
 * A script: `build` creates what it needs (once, before pgbench) and returns
 * the script text, or several texts of which pgbench picks one at random
 * (equal weights) for each transaction.
 */
export interface PgbenchScript {
  name: 'hot-path' | 'job-path' | 'job-path-rules' | 'job-path-batch' | 'job-path-rules-batch';
  /** Jobs one transaction of the script authorizes (1 but for the batch replays). */
  jobsPerTransaction?: number;
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

/**
 * The statements the service sends for one POST /v1/jobs, as recorded from
 * the service's own code (job-path-recorder.ts): in order, each in the
 * transaction the service runs it in, with the recorded values and fresh
 * per-job UUIDs. One script per recorded contract (pgbench picks one at
 * random per transaction), so the load spreads over the same counter rows
 * as the HTTP load. Writes real rows in the run's throw-away database.
 */
export function jobPathScript(name: 'job-path' | 'job-path-rules', recordings: RecordedJob[]): PgbenchScript {
  return {
    name,
    mode: 'prepared',
    build: async (c) => {
      if (recordings.length === 0) throw new Error('no recorded job to replay');
      const types = new Map<string, string[]>();
      const out: string[] = [];
      for (const job of recordings) {
        const missing = job.first.filter((st) => !types.has(st.text));
        const found = await parameterTypes(c, missing);
        missing.forEach((st, i) => types.set(st.text, found[i]));
        out.push(scriptOfRecording(job, job.first.map((st) => types.get(st.text)!)));
      }
      return out;
    },
  };
}

/**
 * The batch statement the service sends under load (RELEASE_BATCH_AS_CALLER,
 * or _RULED for `job-path-rules-batch`), replayed with `size` recorded jobs
 * per transaction: the single statements recorded for `size` different
 * contracts, their values turned into the batch's arrays as the service
 * does (one JSON array of every request's values, in request order; under
 * rules the rule ids of each request comma-joined). One script per starting contract. `size`
 * is the requests per release statement the service itself ran at the
 * headline load, so the replay is the database's share of what the service
 * did, and its tps × size the jobs/s its own SQL allows.
 */
export function jobPathBatchScript(name: 'job-path-batch' | 'job-path-rules-batch', recordings: RecordedJob[], size: number): PgbenchScript {
  const ruled = name === 'job-path-rules-batch';
  const single = ruled ? RELEASE_AS_CALLER_RULED : RELEASE_AS_CALLER;
  const batchText = ruled ? RELEASE_BATCH_AS_CALLER_RULED : RELEASE_BATCH_AS_CALLER;
  const arrays = (statements: RecordedStatement[]): Array<string | Buffer | null> => [batchRows(statements.map((st) => st.values.map((v, i) => {
    // The rule ids travel as comma-joined text: '{"a","b"}' → 'a,b'; the JSON values (recorded as sent, as text) nested as JSON.
    if (ruled && i === 17 && typeof v === 'string') return v.replace(/^\{|\}$|"/g, '');
    return BATCH_JSON_VALUES.includes(i) && typeof v === 'string' ? (JSON.parse(v) as unknown) : v ?? null;
  })))];
  return {
    name,
    mode: 'prepared',
    jobsPerTransaction: size,
    build: async (c) => {
      if (recordings.length < size) throw new Error(`${recordings.length} recorded contracts for batches of ${size}`);
      const bad = recordings.find((r) => r.first.length !== 1 || r.first[0]!.text !== single || r.second[0]?.text !== single);
      if (bad) throw new Error(`contract ${bad.contractId}: the recorded job is not the one ${ruled ? 'RELEASE_AS_CALLER_RULED' : 'RELEASE_AS_CALLER'} statement a batch is made of`);
      const [types] = await parameterTypes(c, [{ text: batchText, values: arrays(recordings.slice(0, size).map((r) => r.first[0]!)) }]);
      return recordings.map((_, k) => {
        const picked = Array.from({ length: size }, (_, j) => recordings[(k + j) % recordings.length]!);
        const job: RecordedJob = {
          contractId: picked.map((r) => r.contractId).join(','),
          first: [{ text: batchText, values: arrays(picked.map((r) => r.first[0]!)) }],
          second: [{ text: batchText, values: arrays(picked.map((r) => r.second[0]!)) }],
        };
        return scriptOfRecording(job, [types!]);
      });
    },
  };
}
