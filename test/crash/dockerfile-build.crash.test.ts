/**
 * The Dockerfile's build stage builds: no Docker engine runs here, so the
 * test gives `npm run build` exactly what the stage's COPY lines put into
 * /app (with this checkout's node_modules for its `npm ci`) and checks that
 * the service and the console come out. A build input the Dockerfile forgets
 * to copy (vite.config.ts once was) fails here instead of at
 * `docker compose up`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The sources of the COPY lines of the first stage (up to the second FROM), without --from copies. */
function buildStageCopies(dockerfile: string): string[] {
  const stages = dockerfile.split(/^FROM\s/m).slice(1);
  const first = stages[0] ?? '';
  const out: string[] = [];
  for (const line of first.split('\n')) {
    const m = /^COPY\s+(?!--from)(.+)$/.exec(line.trim());
    if (!m) continue;
    const parts = m[1]!.trim().split(/\s+/);
    out.push(...parts.slice(0, -1));
  }
  return out;
}

let dir: string;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("builds from exactly what the Dockerfile's build stage copies", async () => {
  const copies = buildStageCopies(fs.readFileSync('Dockerfile', 'utf8'));
  expect(copies).toEqual(expect.arrayContaining(['package.json', 'src', 'contracts']));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-docker-build-'));
  for (const source of copies) fs.cpSync(source, path.join(dir, source), { recursive: true });
  // The stage's `npm ci`: the same lockfile, so the same packages.
  fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir');
  await run('npm', ['run', 'build'], { cwd: dir, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  for (const built of ['dist/src/main.js', 'dist/src/cli/tds.js', 'dist/src/db/pg-cluster.mjs', 'dist/console/index.html']) {
    expect([built, fs.existsSync(path.join(dir, built))]).toEqual([built, true]);
  }
});

it('reads the COPY lines of the build stage only', () => {
  const text = 'FROM node AS build\nCOPY a b ./\nCOPY src ./src\nRUN x\nFROM node\nCOPY --from=build /app/dist ./dist\nCOPY c ./\n';
  expect(buildStageCopies(text)).toEqual(['a', 'b', 'src']);
});
