/**
 * `npm run bench:statements [-- --releases N]`: only the statement phase of
 * the benchmark (issue and verify a statement over N releases, default
 * 100,000), on an embedded PostgreSQL or a fresh database on DATABASE_URL;
 * prints the figures and writes bench/results/statements.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServiceKeys } from '../src/service-keys.js';
import { openBenchDatabase } from './database.js';
import { measureStatements } from './statements-phase.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (m: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function main(): Promise<void> {
  const i = process.argv.indexOf('--releases');
  const releases = i === -1 ? 100_000 : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(releases) || releases < 1) throw new Error('usage: npm run bench:statements -- [--releases N]');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-bench-statements-'));
  const db = await openBenchDatabase(path.join(tmp, 'pg'), process.env, log);
  try {
    const figures = await measureStatements(db.url, await loadServiceKeys(path.join(tmp, 'data')), releases, log);
    const out = { figures, database: db.serverVersion, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverage: os.loadavg(), node: process.version, date: new Date().toISOString() };
    const dir = path.resolve(here, '..', '..', 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'statements.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`statement over ${figures.releases} releases: issue ${figures.issueMs} ms; verify ${figures.evidenceMs} ms fetching proven entries + ${figures.verifyMs} ms checking (${figures.entriesChecked} entries, ok=${figures.ok})`);
  } finally {
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
