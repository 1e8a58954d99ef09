/**
 * The sandbox holds: code running inside a run (a probe script mounted like
 * the worker, with exactly the production bwrap + prlimit arguments) cannot
 * reach the network, cannot read files beyond the dataset, cannot write the
 * dataset, is stopped by the memory, CPU and wall-clock limits, and the same
 * node process then runs the next analysis normally.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSandboxImage, bwrapArgs, DEFAULT_LIMITS, probeSandbox, runConfined, type RunnerMode, type SandboxLimits } from '../../src/compute/sandbox.js';
import { runAnalysisJob, sha256File, type AnalysisJob } from '../../src/compute/run-analysis.js';
import { effectivePolicy, type DatasetColumn } from '../../src/compute/analysis.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const probe = path.join(here, 'probe.mjs');
const schema: DatasetColumn[] = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'ward', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
];

let tmp: string;
let dir: string;
let csv: string;
let keyFile: string;
let stateDir: string;
let mode: RunnerMode;
let server: net.Server;
let serverPort: number;
const limits: SandboxLimits = { ...DEFAULT_LIMITS, memoryBytes: 2 * 1024 ** 3, cpuSeconds: 20, wallMs: 30_000 };
const logs: string[] = [];
const log = (level: string, msg: string, fields?: Record<string, unknown>) => void logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);

async function probeRun(args: string[], l: SandboxLimits = limits) {
  const run = await runConfined(mode, '', { hostPath: csv, name: 'patients.csv' }, l, { hostPath: probe, args });
  let json: Record<string, unknown> | null;
  try {
    json = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { ...run, json };
}

function job(over: Partial<AnalysisJob> = {}): AnalysisJob {
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    contractId: '00000000-0000-4000-8000-000000000002',
    analysis: { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] },
    analysisDigest: 'a'.repeat(64),
    datasetSha256: '',
    policy: effectivePolicy({}),
    schema,
    fileName: 'patients.csv',
    mediaType: 'text/csv',
    ...over,
  };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-sandbox-'));
  dir = path.join(tmp, 'data');
  stateDir = path.join(tmp, 'state');
  fs.mkdirSync(dir);
  fs.mkdirSync(stateDir);
  csv = path.join(dir, 'patients.csv');
  const lines = ['patient_id,ward,age,los_days'];
  for (let i = 0; i < 500; i++) lines.push(`P${i},${['a', 'b', 'c'][i % 3]},${20 + (i % 70)},${1 + (i % 9)}`);
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);
  keyFile = path.join(tmp, 'provider.key.json');
  fs.writeFileSync(keyFile, '{"secret":"the provider key"}', { mode: 0o600 });
  fs.writeFileSync(path.join(stateDir, 'node-state.json'), '{}');
  const image = buildSandboxImage();
  const probed = await probeSandbox(image);
  if (!probed.ok) throw new Error(`the sandbox is not available here: ${probed.reason}`);
  mode = { sandbox: true, image };
  server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  serverPort = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the bwrap arguments unshare everything, drop capabilities and mount only read-only', () => {
  const args = bwrapArgs(mode.sandbox ? mode.image : buildSandboxImage(), { hostPath: csv, name: 'patients.csv' }, limits);
  for (const flag of ['--unshare-all', '--die-with-parent', '--clearenv', '--new-session']) expect(args).toContain(flag);
  expect(args.join(' ')).toContain('--cap-drop ALL');
  expect(args.join(' ')).toContain('--uid 65534 --gid 65534');
  expect(args.join(' ')).toContain(`--ro-bind ${csv} /data/patients.csv`);
  expect(args).not.toContain('--bind');
  expect(args).not.toContain('--share-net');
});

test('inside a run: uid 65534, no capabilities, only lo, no environment, a near-empty root', async () => {
  const r = await probeRun(['identity']);
  expect(r.code).toBe(0);
  expect(r.json).toMatchObject({ uid: 65534, gid: 65534, capEff: '0000000000000000' });
  expect(r.json!.interfaces).toEqual(['lo']);
  // Nothing inherited from the node: only what bwrap sets (PWD from --chdir).
  expect(r.json!.env).toEqual(['HOME', 'PATH', 'PWD']);
  // A new pid namespace: only the sandbox's own processes are visible.
  expect((r.json!.pids as string[]).length).toBeLessThanOrEqual(3);
  expect(r.json!.root).not.toContain('etc');
  expect(r.json!.root).not.toContain('home');
  expect(r.json!.root).not.toContain('root');
});

test('inside a run: TCP to 127.0.0.1:5432 and to a listening host port fails', async () => {
  // The host's port answers from outside, so a failure inside is the sandbox, not an absent server.
  const outside = await new Promise<string>((resolve) => {
    const s = net.connect(serverPort, '127.0.0.1', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e) => resolve(String(e)));
  });
  expect(outside).toBe('connected');
  const r = await probeRun(['net', '5432', String(serverPort)]);
  expect(r.json).toEqual({ 5432: 'ECONNREFUSED', [serverPort]: 'ECONNREFUSED' });
});

test('inside a run: files outside the dataset are unreadable, the dataset is readable', async () => {
  const targets = ['/etc/passwd', '/etc/shadow', keyFile, path.join(stateDir, 'node-state.json'), path.join(here, 'sandbox.sandbox.test.ts'), '/root/.bash_history'];
  const r = await probeRun(['read', ...targets, '/data/patients.csv']);
  for (const t of targets) expect([t, r.json![t]]).toEqual([t, expect.stringMatching(/^E[A-Z]+$/)]);
  expect(r.json!['/data/patients.csv']).toBe('read');
});

test('inside a run: the dataset cannot be written', async () => {
  const before = await sha256File(csv);
  const r = await probeRun(['write', '/data/patients.csv']);
  expect(r.json).toEqual({ write: 'EROFS' });
  expect(await sha256File(csv)).toBe(before);
});

test('a memory bomb is stopped by the address-space limit, not the clock', async () => {
  const r = await probeRun(['memory'], { ...limits, memoryBytes: 2 * 1024 ** 3 });
  expect(r.timedOut).toBe(false);
  expect(r.code === 0 && r.json !== null).toBe(false);
  expect(r.code !== 0 || r.signal !== null).toBe(true);
});

test('an endless loop is stopped by the CPU-time limit; a sleeping one by the wall clock', async () => {
  const spin = await probeRun(['spin'], { ...limits, cpuSeconds: 2, wallMs: 60_000 });
  expect(spin.timedOut).toBe(false);
  expect(['SIGXCPU', 'SIGKILL']).toContain(spin.signal ?? (spin.code !== null && spin.code > 128 ? 'SIGKILL' : String(spin.code)));
  const sleep = await probeRun(['sleep'], { ...limits, wallMs: 2000 });
  expect(sleep.timedOut).toBe(true);
  expect(sleep.json).toBeNull();
});

test('an endless DuckDB query is interrupted at the wall-clock limit and reported as QUERY_TIMEOUT', async () => {
  const input = JSON.stringify({ allowedDirectory: '/data/', memoryLimit: '256MB', threads: 1, timeoutMs: 1500, queries: [{ sql: 'SELECT count(*) FROM range(1000000000000) a(x) WHERE x % 7 = 3', params: {} }] });
  const run = await runConfined(mode, input, { hostPath: csv, name: 'patients.csv' }, { ...limits, wallMs: 20_000 });
  expect(run.timedOut).toBe(false);
  expect(JSON.parse(run.stdout.trim())).toMatchObject({ ok: false, code: 'QUERY_TIMEOUT' });
});

test('a DuckDB memory bomb stops at memory_limit; DuckDB itself refuses files outside /data', async () => {
  const bomb = JSON.stringify({ allowedDirectory: '/data/', memoryLimit: '128MB', threads: 1, timeoutMs: 20_000, queries: [{ sql: 'SELECT sum(len(l)) FROM (SELECT list(x) AS l FROM range(300000000) t(x) GROUP BY x % 3)', params: {} }] });
  const a = await runConfined(mode, bomb, { hostPath: csv, name: 'patients.csv' }, limits);
  expect(JSON.parse(a.stdout.trim())).toMatchObject({ ok: false, code: 'RESOURCE_LIMIT' });
  const escape = JSON.stringify({ allowedDirectory: '/data/', memoryLimit: '128MB', threads: 1, timeoutMs: 20_000, queries: [{ sql: "SELECT * FROM read_text('/opt/tds/sandbox-worker.mjs')", params: {} }] });
  const b = await runConfined(mode, escape, { hostPath: csv, name: 'patients.csv' }, limits);
  expect(JSON.parse(b.stdout.trim())).toMatchObject({ ok: false, code: 'QUERY_FAILED' });
  expect(b.stdout).toMatch(/disabled by configuration|Permission Error/);
});

test('after all that the same process runs the next analysis; a changed file fails its digest check', async () => {
  const sha = await sha256File(csv);
  const ctx = { dir, mode, limits, log };
  const ok = await runAnalysisJob(job({ datasetSha256: sha }), ctx);
  expect(ok.status).toBe('pass');
  expect(ok.rows.map((r) => r[0])).toEqual(['a', 'b', 'c']);
  expect(ok.rows.map((r) => r[1])).toEqual([165, 165, 165]); // 167, 167, 166 rounded to 5
  const bad = await runAnalysisJob(job({ datasetSha256: 'f'.repeat(64) }), ctx);
  expect(bad).toMatchObject({ status: 'fail', error: { code: 'DATASET_DIGEST_MISMATCH' }, rows: [] });
  expect(logs.some((l) => l.includes('dataset digest differs'))).toBe(true);
});
