/**
 * `npm run bench -- --matrix [--quick]`: the process layout chosen by
 * measurement. One database, seeded once (the plain contracts and the ones
 * under reciprocity rules); then for every (TDS_WORKERS, TDS_DB_POOL_SIZE)
 * of the matrix the built service is started, warmed up and loaded with jobs
 * at the headline connection count, and stopped. The combinations run in an
 * interleaved order and each `rounds` times, so a machine whose load drifts
 * does not favour the one measured last; the table shows medians. At the end
 * the job path is recorded and replayed by pgbench (the ceiling), as in the
 * full run. Writes bench/results/<out>.json and .txt.
 */
import fs from 'node:fs';
import path from 'node:path';
import { operatorOf } from './client.js';
import { measureJobs, type JobPhase } from './jobs-phase.js';
import { recordJobPath } from './job-path-recorder.js';
import { runPgbench, type PgbenchResult } from './pgbench.js';
import { hotPathScript, jobPathScript } from './pgbench-scripts.js';
import { machineInfo, table } from './report.js';
import { seed, seedRules, type SeededContract } from './seed.js';
import { startService } from './service.js';
import { median, round } from './stats.js';
import type { BenchOptions } from './options.js';
import type { BenchDatabase } from './database.js';

/** One measured cell. */
export interface MatrixCell {
  workers: number;
  poolSize: number;
  round: number;
  jobsPerSecond: number;
  p50: number | null;
  p99: number | null;
  notOk: number;
  cpuMsPerJob: JobPhase['cpuMsPerJob'];
  machineBusyPercent: number | null;
  /** VmHWM of the largest serving process, MB. */
  peakRssMb: number | null;
}

/** The combinations, each `rounds` times, interleaved (round-major, then a rotation per round). */
export function matrixOrder(workers: number[], pools: number[], rounds: number): Array<{ workers: number; poolSize: number; round: number }> {
  const cells = workers.flatMap((w) => pools.map((p) => ({ workers: w, poolSize: p })));
  const out: Array<{ workers: number; poolSize: number; round: number }> = [];
  for (let r = 0; r < rounds; r++) for (let i = 0; i < cells.length; i++) out.push({ ...cells[(i + r) % cells.length], round: r });
  return out;
}

const medianOrNull = (xs: number[]): number | null => (xs.length === 0 ? null : median(xs));

/** Runs the matrix against an open bench database; returns the exit code. */
export async function runMatrix(opts: BenchOptions, db: BenchDatabase, paths: { root: string; tmp: string; dataDir: string; resultsDir: string; origin: string }, log: (m: string) => void, cleanups: Array<() => Promise<void>>): Promise<number> {
  const started = Date.now();
  const errors: string[] = [];
  const cells: MatrixCell[] = [];
  let seeded: { plain: SeededContract[]; rules: SeededContract[] } | null = null;
  const order = matrixOrder(opts.matrixWorkers, opts.matrixPools, opts.matrixRounds);
  for (const [i, cell] of order.entries()) {
    // --profile: one CPU profile per cell, in bench/results/profiles/<out>/cell-<i>.
    const nodeFlags = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(paths.resultsDir, 'profiles', opts.out, `cell-${i + 1}`)}`] : [];
    const svc = await startService({ databaseUrl: db.url, dataDir: paths.dataDir, workers: cell.workers, poolSize: cell.poolSize, ledgerOrigin: paths.origin, nodeFlags });
    const stop = (): Promise<void> => svc.stop(5000);
    cleanups.push(stop);
    try {
      if (!seeded) {
        const s = await seed(svc.base, operatorOf(paths.dataDir), opts);
        seeded = { plain: s.contracts, rules: await seedRules(svc.base, s.operator, s.providers, { consumers: opts.consumers, contracts: opts.contracts }) };
      }
      const r = await measureJobs(svc, seeded.plain, { connections: [opts.headlineConnections], durationS: opts.durationS, warmupS: opts.warmupS }, log);
      const p = r.phases[0];
      cells.push({ ...cell, jobsPerSecond: p.okPerSecond, p50: p.latencyMs.p50, p99: p.latencyMs.p99, notOk: p.notOk + p.errors, cpuMsPerJob: p.cpuMsPerJob, machineBusyPercent: p.cpu.machineBusyPercent, peakRssMb: r.memory.peakRssMbPerProcess });
      log(`matrix ${i + 1}/${order.length}: workers ${cell.workers}, pool ${cell.poolSize}: ${p.okPerSecond} jobs/s, p99 ${p.latencyMs.p99} ms, peak RSS ${r.memory.peakRssMbPerProcess} MB`);
    } catch (e) {
      errors.push(`workers ${cell.workers} pool ${cell.poolSize}: ${(e as Error).message.split('\n')[0]}`);
      log(`matrix cell failed: ${(e as Error).stack ?? String(e)}`);
    } finally {
      await stop();
      cleanups.splice(cleanups.indexOf(stop), 1);
    }
  }
  let pgbench: PgbenchResult[] | null = null;
  if (seeded) {
    try {
      const rec = async (contracts: SeededContract[]) => recordJobPath({ databaseUrl: db.url, dataDir: paths.dataDir, ledgerOrigin: paths.origin, contracts });
      const plain = await rec(seeded.plain);
      const rules = await rec(seeded.rules);
      log(`job path: ${plain[0]?.first.length} statements per job, ${rules[0]?.first.length} with rules`);
      pgbench = await runPgbench(db.url, {
        runs: [
          { script: hotPathScript(opts.contracts), clients: opts.headlineConnections },
          { script: jobPathScript('job-path', plain), clients: opts.headlineConnections },
          { script: jobPathScript('job-path-rules', rules), clients: opts.headlineConnections },
        ],
        durationS: opts.durationS,
        workDir: paths.tmp,
      }, log);
    } catch (e) {
      errors.push(`replay: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const summary = opts.matrixWorkers.flatMap((w) => opts.matrixPools.map((p) => {
    const mine = cells.filter((c) => c.workers === w && c.poolSize === p);
    return {
      workers: w, poolSize: p, rounds: mine.length,
      jobsPerSecondMedian: medianOrNull(mine.map((c) => c.jobsPerSecond)), p99Median: medianOrNull(mine.map((c) => c.p99 ?? NaN).filter(Number.isFinite)),
      serviceCpuMsPerJobMedian: medianOrNull(mine.map((c) => c.cpuMsPerJob.service ?? NaN).filter(Number.isFinite)),
      postgresCpuMsPerJobMedian: medianOrNull(mine.map((c) => c.cpuMsPerJob.postgres ?? NaN).filter(Number.isFinite)),
      peakRssMbMax: mine.some((c) => c.peakRssMb !== null) ? Math.max(...mine.map((c) => c.peakRssMb ?? 0)) : null,
    };
  }));
  const replay = (name: string): number | null => {
    const r = pgbench?.find((x) => x.script === name);
    return r && r.available ? r.tps : null;
  };
  const machine = machineInfo(paths.root, db.serverVersion);
  const rows = summary.map((s) => [`workers ${s.workers} × pool ${s.poolSize}`, s.jobsPerSecondMedian === null ? null : String(s.jobsPerSecondMedian), `p99 ${s.p99Median ?? '—'} ms; CPU ms/job service ${s.serviceCpuMsPerJobMedian ?? '—'} / postgres ${s.postgresCpuMsPerJobMedian ?? '—'}; ${s.rounds} round(s); peak RSS ${s.peakRssMbMax ?? '—'} MB; ceiling ${replay('job-path') && s.jobsPerSecondMedian ? round(s.jobsPerSecondMedian / replay('job-path')!, 3) : '—'}`]);
  for (const r of pgbench ?? []) rows.push([`pgbench ${r.script} (c=${r.clients})`, r.available ? String(r.tps) : null, r.available ? `postgres ${r.cpu.postgresCores} cores` : r.reason]);
  const text = [
    `tds layout matrix ${opts.quick ? '(--quick) ' : ''}— ${machine.date}, c=${opts.headlineConnections}, ${opts.durationS} s per cell, medians of ${opts.matrixRounds} round(s)`,
    `${machine.cpuCount} × ${machine.cpuModel}, ${machine.os}, Node ${machine.node}; commit ${machine.gitCommit?.slice(0, 12) ?? 'unknown'}${machine.gitDirty ? ' (dirty)' : ''}`,
    '',
    table(['layout', 'jobs/s (median)', 'detail'], rows),
    ...(errors.length ? ['', 'errors:', ...errors.map((e) => `  ${e}`)] : []),
    '',
    `total ${round((Date.now() - started) / 1000, 1)} s`,
  ].join('\n');
  fs.mkdirSync(paths.resultsDir, { recursive: true });
  fs.writeFileSync(path.join(paths.resultsDir, `${opts.out}.json`), `${JSON.stringify({ kind: 'layout-matrix', options: opts, machine, database: { source: db.source, version: db.serverVersion }, cells, summary, pgbench, errors }, null, 2)}\n`);
  fs.writeFileSync(path.join(paths.resultsDir, `${opts.out}.txt`), `${text}\n`);
  console.log(text);
  return errors.length > 0 ? 1 : 0;
}
