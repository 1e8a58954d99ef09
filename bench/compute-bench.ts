/**
 * `node dist/bench/compute-bench.js [--quick]` (after npm run build): the
 * compute-at-the-node phase of `npm run bench` on its own, without the
 * database and service phases. Prints the figures and writes
 * bench/results/compute-<quick|latest>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeRows, measureCompute } from './compute-phase.js';
import { table } from './report.js';

const quick = process.argv.includes('--quick');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-compute-bench-'));
const log = (m: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
try {
  const figures = await measureCompute(tmp, { rows: quick ? 100_000 : 1_000_000, samples: quick ? 3 : 5 }, log);
  const out = path.join(root, 'bench', 'results', `compute-${quick ? 'quick' : 'latest'}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, node: process.version, ...figures }, null, 2)}\n`);
  console.log(table(['figure', 'value', 'detail'], computeRows(figures)));
  log(`wrote ${path.relative(root, out)}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
