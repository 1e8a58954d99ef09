/**
 * Figure 2, the database ceiling: pgbench against the same server at the
 * same concurrency, with the scripts of pgbench-scripts.ts. Its tables live
 * in their own schema so the service's are untouched. A missing pgbench is
 * reported, not fatal.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { connectClient } from './database.js';
import { startCpuMeter, type CpuUse } from './cpu.js';
import { SCHEMA, type PgbenchScript } from './pgbench-scripts.js';
import { PREPARED_PLAN_OPTIONS } from '../src/db/prepared.js';

/** One pgbench run, or why there was none. */
export type PgbenchResult =
  | { available: true; script: string; mode: string; clients: number; threads: number; durationS: number; tps: number; jobsPerTransaction: number; latencyAvgMs: number | null; failed: number | null; transactions: number | null; version: string; cpu: CpuUse }
  | { available: false; script: string; clients: number; reason: string };

/** pgbench from $PGBENCH, /usr/bin, PATH, or Debian's versioned directories; null when none. */
export function findPgbench(env: NodeJS.ProcessEnv): string | null {
  const candidates = [env.PGBENCH, '/usr/bin/pgbench', ...(env.PATH ?? '').split(':').map((d) => path.join(d, 'pgbench'))];
  try {
    for (const v of fs.readdirSync('/usr/lib/postgresql').sort().reverse()) candidates.push(`/usr/lib/postgresql/${v}/bin/pgbench`);
  } catch {
    // no Debian PostgreSQL packages
  }
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? null;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
}

/** Recreates the schema and lets each script create its tables; returns the script files of each. */
async function prepare(url: string, scripts: PgbenchScript[], workDir: string): Promise<Map<string, string[] | Error>> {
  const c = await connectClient(url);
  const files = new Map<string, string[] | Error>();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await c.query(`CREATE SCHEMA ${SCHEMA}`);
    for (const s of scripts) {
      // One script that cannot be built must not cost the others their figure.
      try {
        const built = await s.build(c);
        const texts = Array.isArray(built) ? built : [built];
        files.set(s.name, texts.map((text, i) => {
          const file = path.join(workDir, `${s.name}-${i}.pgbench.sql`);
          fs.writeFileSync(file, text);
          return file;
        }));
      } catch (e) {
        files.set(s.name, new Error(`script ${s.name} could not be built: ${(e as Error).message}`));
      }
    }
    await c.query('CHECKPOINT').catch(() => undefined);
  } finally {
    await c.end();
  }
  return files;
}

// A failed run's message: its first line (the command) shortened, and the end of pgbench's output, which says why.
function failure(message: string): string {
  const [command = '', ...rest] = message.split('\n');
  return `${command.slice(0, 120)}… ${rest.join(' ').trim().slice(-400)}`;
}

/** Runs pgbench for every (script, client count) with the script's -M mode; `threads` is 2, as the issue asks (-j 2). */
export async function runPgbench(url: string, opts: { runs: Array<{ script: PgbenchScript; clients: number }>; durationS: number; workDir: string }, log: (m: string) => void): Promise<PgbenchResult[]> {
  const fail = (reason: string): PgbenchResult[] => opts.runs.map((r) => ({ available: false, script: r.script.name, clients: r.clients, reason }));
  const bin = findPgbench(process.env);
  if (!bin) return fail('pgbench not found (looked in $PGBENCH, /usr/bin, PATH, /usr/lib/postgresql/*/bin); install postgresql-client');
  let version: string;
  let files: Map<string, string[] | Error>;
  try {
    version = (await run(bin, ['--version'], process.env)).stdout.trim();
    files = await prepare(url, [...new Set(opts.runs.map((r) => r.script))], opts.workDir);
  } catch (e) {
    return fail(`pgbench could not run: ${(e as Error).message.split('\n')[0]}`);
  }
  const u = new URL(url);
  const env = {
    ...process.env,
    // A socket URL (?host=/dir) keeps pgbench on the socket too, as the service is.
    PGHOST: u.searchParams.get('host') ?? u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
    // Planned as the service's connections plan its prepared statements (src/db/prepared.ts).
    PGOPTIONS: PREPARED_PLAN_OPTIONS,
  };
  const out: PgbenchResult[] = [];
  for (const { script, clients } of opts.runs) {
    const threads = Math.min(2, clients);
    const scriptFiles = files.get(script.name);
    if (!scriptFiles || scriptFiles instanceof Error) {
      out.push({ available: false, script: script.name, clients, reason: scriptFiles?.message ?? 'script missing' });
      continue;
    }
    try {
      const cpu = startCpuMeter(() => []);
      const { stdout } = await run(bin, ['-n', '-M', script.mode, '-c', String(clients), '-j', String(threads), '-T', String(opts.durationS), ...scriptFiles.flatMap((f) => ['-f', f])], env);
      const use = cpu.stop();
      const num = (re: RegExp): number | null => {
        const m = re.exec(stdout);
        return m ? Number(m[1]) : null;
      };
      const tps = num(/tps = ([\d.]+) \(without initial connection time\)/) ?? num(/tps = ([\d.]+)/);
      if (tps === null) throw new Error(`no tps in pgbench output: ${stdout.slice(0, 500)}`);
      out.push({
        available: true, script: script.name, mode: script.mode, clients, threads, durationS: opts.durationS, tps: Math.round(tps * 10) / 10, jobsPerTransaction: script.jobsPerTransaction ?? 1,
        latencyAvgMs: num(/latency average = ([\d.]+) ms/), failed: num(/number of failed transactions: (\d+)/),
        transactions: num(/number of transactions actually processed: (\d+)/), version, cpu: use,
      });
      log(`pgbench ${script.name} -c ${clients}: ${tps.toFixed(0)} tps (postgres ${use.postgresCores ?? '?'} cores, machine ${use.machineBusyPercent ?? '?'} % busy)`);
    } catch (e) {
      out.push({ available: false, script: script.name, clients, reason: `pgbench failed: ${failure((e as Error).message)}` });
    }
  }
  return out;
}
