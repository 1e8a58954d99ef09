/**
 * What the service really sends to PostgreSQL for one POST /v1/jobs, so that
 * the pgbench replay (figure 2, job-path) cannot drift from the code: the
 * built service's own modules (buildApp, createServices, the same config and
 * keys) run inside the bench process on a port of their own, jobs are posted
 * over real HTTP with real request tokens, and every statement the pg driver
 * sends while a job is in flight is recorded (text, values), in order.
 *
 * Two recorded jobs on the same contract tell what varies per job: a UUID
 * that appears in the first recording's values but not in the second's (job
 * id, token jti, release jti) is given a fresh value in every pgbench
 * transaction; everything else (timestamps, digests, the release token) is
 * replayed as recorded. Nothing here names a statement, a parameter position
 * or a column: when the service's SQL changes, the replay changes with it.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import pg from 'pg';
import { pino } from 'pino';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createDataSource, openDatabase } from '../src/db/data-source.js';
import { migrations } from '../migrations/index.js';
import { buildApp } from '../src/app.js';
import { createServices, entities } from '../src/services.js';
import { loadServiceKeys } from '../src/service-keys.js';
import { loadSchemas } from '../src/http/validation.js';
import { BENCH_PURPOSE, type SeededContract } from './seed.js';

/** One statement as the driver sent it: text and the values as pg serialises them (strings, Buffers or null). */
export interface RecordedStatement {
  text: string;
  values: Array<string | Buffer | null>;
  /**
   * When it answered one row: its array-valued columns, serialised as pg would send them back. A later
   * statement's value equal to one of them is one the service read and passes on (the fact versions a
   * decision under rules saw): the replay reads it back (pgbench \gset) instead of replaying it.
   */
  arrays?: Record<string, string>;
}

// The array-valued columns of a one-row answer, serialised as parameters are.
function arrayCells(result: unknown): Record<string, string> | undefined {
  const rows = (result as { rows?: unknown[] } | undefined)?.rows;
  if (!Array.isArray(rows) || rows.length !== 1 || rows[0] === null || typeof rows[0] !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rows[0] as Record<string, unknown>)) if (Array.isArray(v)) out[k] = String(prepareValue(v));
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The statements of one job on one contract, twice (to tell what varies per job). */
export interface RecordedJob {
  contractId: string;
  /** The statements of the first of the two recorded jobs, in order. */
  first: RecordedStatement[];
  second: RecordedStatement[];
}

const require = createRequire(import.meta.url);
// pg's own serialisation of a parameter (Dates, arrays, objects, Buffers) — the exact text the server receives.
const { prepareValue } = require('pg/lib/utils.js') as { prepareValue(v: unknown): string | Buffer | null };

type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;

/** Records every query sent through any pg.Client of this process while `recording` is on. */
function tapDriver(): { start(): void; stop(): RecordedStatement[]; restore(): void } {
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  let log: RecordedStatement[] | null = null;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    let entry: RecordedStatement | undefined;
    if (log) {
      const [first, second] = args;
      const cfg = (typeof first === 'string' ? { text: first, values: Array.isArray(second) ? second : undefined } : first) as { text?: string; values?: unknown[] } | undefined;
      if (cfg && typeof cfg.text === 'string') log.push((entry = { text: cfg.text, values: (cfg.values ?? []).map((v) => prepareValue(v)) }));
    }
    if (!entry) return original.apply(this, args);
    const recorded = entry;
    const keep = (result: unknown): void => {
      const arrays = arrayCells(result);
      if (arrays) recorded.arrays = arrays;
    };
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: unknown, result: unknown) => {
        if (!err) keep(result);
        return (last as (e: unknown, r: unknown) => unknown)(err, result);
      };
      return original.apply(this, args);
    }
    const answer = original.apply(this, args);
    if (answer && typeof (answer as Promise<unknown>).then === 'function') (answer as Promise<unknown>).then(keep, () => undefined);
    return answer;
  };
  return {
    start: () => void (log = []),
    stop: () => {
      const out = log ?? [];
      log = null;
      return out;
    },
    restore: () => void (proto.query = original),
  };
}

/**
 * Runs the service in-process against `databaseUrl` (the run's seeded
 * database; no background work is started, so no other statement interleaves)
 * and records `warm` unrecorded jobs then two recorded ones on each contract.
 */
export async function recordJobPath(opts: { databaseUrl: string; dataDir: string; ledgerOrigin: string; contracts: SeededContract[]; warm?: number }): Promise<RecordedJob[]> {
  const config = loadConfig({ DATABASE_URL: opts.databaseUrl, TDS_DATA_DIR: opts.dataDir, TDS_DEV_MODE: 'true', LOG_LEVEL: 'silent', TDS_LEDGER_ORIGIN: opts.ledgerOrigin, PORT: '0', HOST: '127.0.0.1' });
  const logger = pino({ level: 'silent' });
  const ds = await openDatabase(createDataSource({ url: opts.databaseUrl, entities, migrations, poolSize: 4, applicationName: 'tds-bench-recorder' }));
  const tap = tapDriver();
  const server = http.createServer(buildApp({ config, ds, logger, keys: await loadServiceKeys(opts.dataDir), schemas: loadSchemas(), services: createServices(ds, config, await loadServiceKeys(opts.dataDir), logger) }));
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = async (c: SeededContract): Promise<void> => {
      const res = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.consumer.token('POST', '/v1/jobs')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ contractId: c.contractId, purpose: BENCH_PURPOSE }),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`recording the job path: POST /v1/jobs answered ${res.status} ${text.slice(0, 300)}`);
    };
    const out: RecordedJob[] = [];
    for (const c of opts.contracts) {
      // The first job of a consumer warms the key cache; only the steady state is replayed.
      for (let i = 0; i < (opts.warm ?? 2); i++) await post(c);
      const recorded: RecordedStatement[][] = [];
      for (let i = 0; i < 2; i++) {
        tap.start();
        try {
          await post(c);
        } finally {
          recorded.push(tap.stop());
        }
      }
      out.push({ contractId: c.contractId, first: recorded[0], second: recorded[1] });
    }
    return out;
  } finally {
    tap.restore();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await ds.destroy().catch(() => undefined);
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** A SQL string literal whose text has no ':' (E-string with \x3a), so pgbench sees no variable in it. */
export const literal = (v: string): string => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/:/g, '\\x3a')}'`;

/**
 * The pgbench script of one recorded job: each statement with its $n replaced
 * by the recorded value as a typed literal, the per-job UUIDs replaced by
 * md5(:rnd || k)::uuid (fresh in every transaction). `types` are the
 * parameter types PostgreSQL infers for each statement (pg_prepared_statements),
 * so every literal is cast exactly as the prepared statement would take it.
 */
export function scriptOfRecording(job: RecordedJob, types: string[][]): string {
  const { first, second } = job;
  if (first.length === 0) throw new Error('no statement was recorded for a job');
  if (first.length !== second.length || first.some((s, i) => s.text !== second[i].text)) {
    throw new Error(`two jobs on contract ${job.contractId} sent different statements (${first.length} vs ${second.length}): the replay would not be the steady state`);
  }
  // UUIDs of the first job that the second job does not carry anywhere: the per-job ones.
  const secondText = second.flatMap((s) => s.values.map((v) => (typeof v === 'string' ? v : ''))).join('\n');
  const varying = new Map<string, number>();
  for (const s of first) {
    for (const v of s.values) {
      if (typeof v !== 'string') continue;
      for (const u of v.match(UUID) ?? []) if (!secondText.includes(u) && !varying.has(u)) varying.set(u, varying.size);
    }
  }
  const fresh = (k: number): string => `md5(:rnd::text || '${k}')::uuid`;
  const valueSql = (v: string | Buffer | null, type: string): string => {
    // A type PostgreSQL could not infer stays an untyped literal, as the driver's text parameter is.
    const cast = type === 'unknown' ? '' : `::${type}`;
    if (v === null) return `NULL${cast}`;
    if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'${cast}`;
    const inside = [...new Set(v.match(UUID) ?? [])].filter((u) => varying.has(u));
    if (inside.length === 0) return `${literal(v)}${cast}`;
    // A whole-value UUID becomes the fresh one directly; a UUID inside text (JSON subjects) is substituted in it.
    if (inside.length === 1 && v === inside[0]) return `${fresh(varying.get(v)!)}::text${cast}`;
    let sql = literal(v);
    for (const u of inside) sql = `replace(${sql}, '${u}', ${fresh(varying.get(u)!)}::text)`;
    return `(${sql})${cast}`;
  };
  // Values an earlier statement answered (its one row's array columns): read back through pgbench variables.
  const readBack = new Map<string, string>();
  const used = new Set<number>();
  const lines: string[] = [];
  first.forEach((s, i) => {
    const t = types[i] ?? [];
    const text = s.text.trim().replace(/;\s*$/, '').replace(/\$(\d+)\b/g, (m, n: string) => {
      const k = Number(n) - 1;
      if (k >= s.values.length) throw new Error(`statement ${i} uses ${m} but was sent ${s.values.length} values`);
      const v = s.values[k];
      const variable = typeof v === 'string' ? readBack.get(v) : undefined;
      const type = t[k] ?? 'unknown';
      if (variable) {
        used.add(Number(/^p(\d+)_/.exec(variable)![1]));
        // Unquoted: with -M prepared pgbench sends a variable as a parameter of the statement.
        return `(:${variable}${type === 'unknown' ? '' : `::${type}`})`;
      }
      return `(${valueSql(v, type)})`;
    });
    lines.push(text);
    for (const [column, value] of Object.entries(s.arrays ?? {})) if (/^[a-z_][a-z0-9_]*$/.test(column) && !readBack.has(value)) readBack.set(value, `p${i}_${column}`);
  });
  // Each statement ends with ';', or with \gset (store its row's columns as p<i>_<column>) when a later one reads one back.
  const script = `${['\\set rnd random(1, 9000000000000000000)', ...lines.map((l, i) => (used.has(i) ? `${l} \\gset p${i}_` : `${l};`))].join('\n')}\n`;
  // Any other `:word` would be taken for a variable: fail here rather than measure an error loop.
  const stray = script.replace(/:rnd\b/g, '').replace(/:p\d+_[a-z0-9_]+/g, '').replace(/::/g, '').match(/:[A-Za-z0-9_]/);
  if (stray) throw new Error(`job-path script has a stray pgbench variable near ${JSON.stringify(script.slice(Math.max(0, stray.index! - 40), stray.index! + 20))}`);
  return script;
}

/** The parameter types PostgreSQL infers for each statement (PREPARE, read back, DEALLOCATE), as SQL type names. */
export async function parameterTypes(c: pg.Client, statements: RecordedStatement[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const [i, s] of statements.entries()) {
    if (s.values.length === 0 || !/\$\d/.test(s.text)) {
      out.push([]);
      continue;
    }
    const name = `tds_replay_types_${i}`;
    await c.query(`PREPARE ${name} AS ${s.text.trim().replace(/;\s*$/, '')}`);
    try {
      const r = await c.query<{ t: string[] }>('SELECT parameter_types::text[] AS t FROM pg_prepared_statements WHERE name = $1', [name]);
      out.push(r.rows[0].t);
    } finally {
      await c.query(`DEALLOCATE ${name}`);
    }
  }
  return out;
}
