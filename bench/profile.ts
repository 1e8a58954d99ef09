/**
 * Reads V8 .cpuprofile files (written by node --cpu-prof) and lists where the
 * time went, by self time per function: enough to say what bounds a figure
 * without opening a profiler UI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { round } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** One line of a summary: a function and its share of the samples. */
export interface HotFunction {
  fn: string;
  selfPercent: number;
}

/** Short location: the path below node_modules/ or dist/, so lines stay readable. */
function where(url: string, line: number): string {
  if (!url) return '';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  const short = nm >= 0 ? p.slice(nm + 'node_modules/'.length) : p.includes('/dist/') ? p.slice(p.indexOf('/dist/') + 6) : path.basename(p);
  return `${short}:${line + 1}`;
}

/** Top functions by self time of one profile (or several, merged), with (idle) and (garbage collector) kept as V8 names them. */
export function summariseProfiles(files: string[], top = 15): HotFunction[] {
  const self = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const prof = JSON.parse(fs.readFileSync(f, 'utf8')) as { nodes: ProfileNode[] };
    for (const n of prof.nodes) {
      const hits = n.hitCount ?? 0;
      // Idle time says nothing about what bounds the work: shares are of busy samples.
      if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
      const key = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url, n.callFrame.lineNumber)}`.trim();
      self.set(key, (self.get(key) ?? 0) + hits);
      total += hits;
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, hits]) => ({ fn, selfPercent: round((hits / total) * 100, 1) }));
}

/** The .cpuprofile files in a directory (none when it does not exist). */
export function profilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
}
