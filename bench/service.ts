/**
 * The service under test as separate OS processes: dist/src/main.js itself,
 * one process (TDS_WORKERS=1) or a primary with several node:cluster workers
 * (TDS_WORKERS=N, the layout a deployment uses), against the run's database.
 * Also reads their memory from /proc, since peak RSS is one of the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/db/embedded-postgres.js';
import { sleep } from './stats.js';
import { trackChild } from './children.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A running service: base URL, the process we spawned, and how to stop it. */
export interface RunningService {
  base: string;
  port: number;
  workers: number;
  child: ChildProcess;
  /** Everything the processes printed (for error messages). */
  output(): string;
  /** Pids of the service's processes: the single process, or the primary (background work) and its workers. */
  servingPids(): number[];
  /** SIGTERM and wait (the service flushes its ledger); SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of startService. */
export interface ServiceOptions {
  databaseUrl: string;
  dataDir: string;
  workers: number;
  /** TDS_DB_POOL_SIZE of each serving process (unset: the service's default). */
  poolSize?: number;
  /** Extra node flags for the served processes (e.g. --cpu-prof). */
  nodeFlags?: string[];
  ledgerOrigin: string;
}

/** Pids whose parent is `pid` (from /proc/<pid>/stat; the comm field may contain spaces, so parse after the last ')'). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** VmRSS and VmHWM (peak) of a process in MB, or null when it is gone or /proc is unavailable. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Starts the service and waits until /readyz answers 200 (and every worker listens). */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const port = await freePort();
  const script = path.resolve(here, '../src/main.js');
  let out = '';
  // BENCH_SERVICE_NODE_FLAGS (space-separated): node flags for an A/B of the served process (bench/README.md).
  const extra = (process.env.BENCH_SERVICE_NODE_FLAGS ?? '').split(' ').filter((f) => f.length > 0);
  const child = trackChild(spawn(process.execPath, [...extra, ...(opts.nodeFlags ?? []), script], {
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      TDS_DATA_DIR: opts.dataDir,
      PORT: String(port),
      TDS_DEV_MODE: 'true',
      LOG_LEVEL: 'warn',
      TDS_LEDGER_ORIGIN: opts.ledgerOrigin,
      TDS_WORKERS: String(opts.workers),
      ...(opts.poolSize ? { TDS_DB_POOL_SIZE: String(opts.poolSize) } : {}),
      // The seeding registers every benchmark participant from this one address.
      TDS_REGISTRATIONS_PER_MINUTE_PER_ADDRESS: '1000000',
      TDS_REGISTRATIONS_PER_MINUTE: '1000000',
      TDS_MAX_PENDING_PARTICIPANTS: '10000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const keep = (d: Buffer): void => {
    out = (out + String(d)).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async (graceMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + 120_000;
  const ready = (): boolean => /tds listening/.test(out);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}): ${out}`);
    try {
      if (ready() && (await fetch(`${base}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`service did not become ready: ${out}`);
    }
    await sleep(100);
  }
  return {
    base,
    port,
    workers: opts.workers,
    child,
    output: () => out,
    servingPids: () => (opts.workers > 1 ? [child.pid!, ...childrenOf(child.pid!)] : [child.pid!]),
    stop,
  };
}
