/**
 * How fast the machine is right now, timed before and after each phase:
 * - `cpuMs`: a fixed single-threaded CPU task (SHA-256 over 8 MiB in 64 KiB
 *   chunks, best of 3): the cores' speed;
 * - `roundTripMs`: p50 / p99 of 200 `SELECT 1` round trips on the bench's
 *   own connection to the run's PostgreSQL: the floor of any request that
 *   reads the database (two process wake-ups), which on this VM moves
 *   independently of the CPU figure;
 * - `autovacuum`: the autovacuum workers busy in the run's database (they
 *   share the cores with the phase).
 * Each figure is printed with its phase's probes, so a figure measured while
 * the shared 2-core machine was slow can be read as such.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { nowMs, percentiles, round } from './stats.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const CHUNKS = 128;
const ROUND_TRIPS = 200;

/** One probe. */
export interface SpeedProbe {
  cpuMs: number;
  roundTripMs: { p50: number | null; p99: number | null };
  /** What PostgreSQL's autovacuum workers were doing at the probe (their query text, e.g. "autovacuum: VACUUM public.ledger_nodes"). */
  autovacuum: string[];
}

/** The probes before and after each phase, by phase name. */
export type SpeedProbes = Record<string, { before: SpeedProbe; after: SpeedProbe }>;

function cpuMs(): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = nowMs();
    for (let i = 0; i < CHUNKS; i++) createHash('sha256').update(CHUNK).digest();
    best = Math.min(best, nowMs() - t0);
  }
  return round(best, 2);
}

/** Probes now; the round trips go over `db` (a plain client nothing else uses). */
export async function speedProbe(db: pg.Client): Promise<SpeedProbe> {
  const cpu = cpuMs();
  const ms: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = nowMs();
    await db.query('SELECT 1');
    ms.push(nowMs() - t0);
  }
  const p = percentiles(ms);
  const av = await db.query<{ q: string }>(`SELECT query AS q FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()`);
  return { cpuMs: cpu, roundTripMs: { p50: p.p50, p99: p.p99 }, autovacuum: av.rows.map((r) => r.q) };
}
