/**
 * CPU accounting from /proc over a measured phase: how many cores the
 * service processes, PostgreSQL and the benchmark process itself used, and
 * how busy the whole machine was. Divided by the phase's throughput this
 * says where each request's CPU goes, which is what bounds a 2-core machine.
 * Linux only; elsewhere (or for a remote DATABASE_URL) the fields are null.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { nowMs, round } from './stats.js';

/** Cores used on average during the phase, per group (1.0 = one core fully busy). */
export interface CpuUse {
  serviceCores: number | null;
  postgresCores: number | null;
  benchCores: number;
  /** Whole machine, from /proc/stat: 100 = every core busy. */
  machineBusyPercent: number | null;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in ticks, or null when it is gone. */
function processTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime); f starts at field 3.
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Pids of PostgreSQL processes on this machine (embedded or a local server). */
function postgresPids(): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') out.push(Number(name));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** Total and idle ticks of the machine (all cores). */
function machineTicks(): { total: number; idle: number } | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: cpu.reduce((a, b) => a + b, 0), idle: cpu[3] + (cpu[4] ?? 0) };
  } catch {
    return null;
  }
}

function ticksOf(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of pids) {
    const t = processTicks(p);
    if (t !== null) m.set(p, t);
  }
  return m;
}

/** Sum of tick increases; a process born during the phase counts from zero. */
function delta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Starts measuring; stop() returns the average cores used since. Processes
 * are re-read every 250 ms and their last reading kept, so backends that exit
 * before stop() (pgbench's connections) still count, to within one interval.
 */
export function startCpuMeter(servicePids: () => number[]): { stop(): CpuUse } {
  const t0 = nowMs();
  const svc0 = ticksOf(servicePids());
  const pg0 = ticksOf(postgresPids());
  const svcLast = new Map(svc0);
  const pgLast = new Map(pg0);
  const m0 = machineTicks();
  const bench0 = process.cpuUsage();
  const sample = (): void => {
    for (const [pid, t] of ticksOf(servicePids())) svcLast.set(pid, t);
    for (const [pid, t] of ticksOf(postgresPids())) pgLast.set(pid, t);
  };
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const secs = (nowMs() - t0) / 1000;
      const hz = ticksPerSecond();
      const m1 = machineTicks();
      const bench = process.cpuUsage(bench0);
      const cores = (ticks: number): number => round(ticks / hz / secs, 2);
      return {
        serviceCores: svcLast.size ? cores(delta(svc0, svcLast)) : null,
        postgresCores: pgLast.size ? cores(delta(pg0, pgLast)) : null,
        benchCores: round((bench.user + bench.system) / 1e6 / secs, 2),
        machineBusyPercent: m0 && m1 && m1.total > m0.total ? round(100 * (1 - (m1.idle - m0.idle) / (m1.total - m0.total)), 1) : null,
      };
    },
  };
}

/** Milliseconds of CPU per operation for a number of cores at a rate (ops/s). */
export function msPerOp(cores: number | null, perSecond: number): number | null {
  return cores === null || perSecond <= 0 ? null : round((cores * 1000) / perSecond, 2);
}

/** The mean of equally long phases' CPU use (a field is null when any phase lacks it). */
export function meanCpu(uses: CpuUse[]): CpuUse {
  const mean = (f: (u: CpuUse) => number | null): number | null => {
    const xs = uses.map(f);
    return xs.length === 0 || xs.some((x) => x === null) ? null : round((xs as number[]).reduce((a, b) => a + b, 0) / xs.length, 2);
  };
  return { serviceCores: mean((u) => u.serviceCores), postgresCores: mean((u) => u.postgresCores), benchCores: mean((u) => u.benchCores) ?? 0, machineBusyPercent: mean((u) => u.machineBusyPercent) };
}
