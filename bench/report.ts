/**
 * What a result file says besides the figures: the machine, the versions, the
 * commit, and the targets with PASS/MISS, plus the printed table. Numbers
 * without their machine are not comparable, so every run records it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where and with what the figures were produced. */
export interface MachineInfo {
  os: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryGb: number;
  node: string;
  postgres: string;
  packages: Record<string, string | null>;
  gitCommit: string | null;
  gitDirty: boolean | null;
  date: string;
}

/** One reported target. MISS is information, not a failure of the run. */
export interface TargetCheck {
  name: string;
  value: number | null;
  unit: string;
  limit: string;
  status: 'PASS' | 'MISS' | 'N/A';
  note?: string;
}

function packageVersion(root: string, name: string): string | null {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Describes this machine and checkout (git is only read). */
export function machineInfo(root: string, postgres: string): MachineInfo {
  const cpus = os.cpus();
  const status = git(root, ['status', '--porcelain']);
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    packages: Object.fromEntries(['express', 'typeorm', 'pg', 'jose', 'autocannon'].map((p) => [p, packageVersion(root, p)])),
    gitCommit: git(root, ['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
  };
}

/** A target check: `ok(value)` decides PASS/MISS; a missing value is N/A with the reason. */
export function target(name: string, value: number | null | undefined, unit: string, limit: string, ok: (v: number) => boolean, note?: string): TargetCheck {
  if (value === null || value === undefined || !Number.isFinite(value)) return { name, value: null, unit, limit, status: 'N/A', note };
  return { name, value, unit, limit, status: ok(value) ? 'PASS' : 'MISS', ...(note ? { note } : {}) };
}

/** A plain-text table with left-aligned columns. */
export function table(header: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '—' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
