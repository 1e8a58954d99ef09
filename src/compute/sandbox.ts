/**
 * One child process per run, confined by bubblewrap and prlimit: new
 * namespaces for everything (the network namespace holds only `lo`), the
 * dataset file bind-mounted read-only, otherwise only what node and DuckDB
 * need to start (the node binary, the shared libraries ldd names, the worker
 * script and the DuckDB package, all read-only), a small tmpfs for scratch,
 * uid/gid 65534 in a new user namespace with every capability dropped, an
 * address-space and CPU-time limit from prlimit, and a wall-clock limit that
 * kills the process tree. Without bwrap the node refuses to start unless
 * told `--unsafe-no-sandbox`.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { packageRoot } from '../package-root.js';

/** Resource limits of one run. */
export interface SandboxLimits {
  /** Address-space limit of the child (prlimit --as), bytes. */
  memoryBytes: number;
  /** CPU-time limit (prlimit --cpu), seconds. */
  cpuSeconds: number;
  /** Wall-clock limit after which the child is killed, ms. */
  wallMs: number;
  /** DuckDB worker threads. */
  threads: number;
  /** Size of the scratch tmpfs, bytes. */
  scratchBytes: number;
}

/** OpenSAFELY-like defaults: 2 threads, 4 GiB, 10 minutes of CPU, 5 minutes of wall time. */
export const DEFAULT_LIMITS: SandboxLimits = Object.freeze({ memoryBytes: 4 * 1024 ** 3, cpuSeconds: 600, wallMs: 300_000, threads: 2, scratchBytes: 64 * 1024 ** 2 });

/** Where things appear inside the sandbox. */
export const SANDBOX_DATA_DIR = '/data/';
const SANDBOX_APP_DIR = '/opt/tds';

/** How one run went: exit status, output, and whether the wall clock or the output cap stopped it. */
export interface SandboxRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  outputTooLarge: boolean;
}

/** The worker script the node runs (built by `npm run build`). */
export function defaultWorkerScript(): string {
  return path.join(packageRoot(), 'dist', 'src', 'compute', 'sandbox-worker.mjs');
}

/** The @duckdb folder of node_modules (node-api, its bindings and the native library). */
export function duckdbPackagesDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(path.dirname(require.resolve('@duckdb/node-api/package.json')));
}

/** Shared libraries a binary loads, as ldd resolves them (absolute paths, symlinks kept and resolved). */
export function sharedLibrariesOf(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

/** True when an executable of that name is on PATH. */
function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What a sandboxed run mounts: built once per node process. */
export interface SandboxImage {
  node: string;
  binds: Array<[hostPath: string, sandboxPath: string]>;
  worker: string;
}

/** Collect the read-only mounts node + DuckDB need; throws when a piece is missing. */
export function buildSandboxImage(workerScript = defaultWorkerScript()): SandboxImage {
  if (!fs.existsSync(workerScript)) throw new Error(`sandbox worker ${workerScript} not found (run npm run build)`);
  const node = fs.realpathSync(process.execPath);
  const duck = duckdbPackagesDir();
  const natives = fs.readdirSync(duck, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.node')).map((f) => path.join(duck, f));
  const libs = new Set<string>();
  for (const bin of [node, ...natives]) {
    for (const lib of sharedLibrariesOf(bin)) {
      if (lib.startsWith(duck)) continue;
      libs.add(lib);
      libs.add(fs.realpathSync(lib));
    }
  }
  const binds: Array<[string, string]> = [[node, node]];
  for (const lib of [...libs].sort()) binds.push([fs.realpathSync(lib), lib]);
  binds.push([duck, `${SANDBOX_APP_DIR}/node_modules/@duckdb`]);
  binds.push([fs.realpathSync(workerScript), `${SANDBOX_APP_DIR}/sandbox-worker.mjs`]);
  return { node, binds, worker: `${SANDBOX_APP_DIR}/sandbox-worker.mjs` };
}

/**
 * The bwrap argument list for one run (pure, so its guarantees are visible
 * and unit-tested): fresh namespaces, die with the parent, no environment,
 * read-only binds, the dataset read-only under /data, tmpfs scratch, uid and
 * gid 65534, no capabilities.
 */
export function bwrapArgs(image: SandboxImage, dataset: { hostPath: string; name: string } | null, limits: SandboxLimits, script = image.worker, scriptArgs: string[] = []): string[] {
  const args = ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session', '--uid', '65534', '--gid', '65534', '--cap-drop', 'ALL', '--clearenv', '--setenv', 'PATH', '/usr/bin', '--setenv', 'HOME', '/tmp'];
  for (const [host, inside] of image.binds) args.push('--ro-bind', host, inside);
  if (dataset) args.push('--ro-bind', dataset.hostPath, `${SANDBOX_DATA_DIR}${dataset.name}`);
  args.push('--proc', '/proc', '--dev', '/dev', '--size', String(limits.scratchBytes), '--tmpfs', '/tmp', '--chdir', '/tmp');
  args.push(image.node, `--max-old-space-size=${Math.max(64, Math.floor(limits.memoryBytes / 1024 ** 2 / 4))}`, script, ...scriptArgs);
  return args;
}

/** Whether bwrap and prlimit exist and a trivial sandboxed node starts; the reason when not. */
export async function probeSandbox(image: SandboxImage): Promise<{ ok: true } | { ok: false; reason: string }> {
  for (const cmd of ['bwrap', 'prlimit', 'ldd']) if (!onPath(cmd)) return { ok: false, reason: `${cmd} not found` };
  const probe = await spawnLimited(['bwrap', ...bwrapArgs(image, null, DEFAULT_LIMITS, '-e', ['process.stdout.write("ok")'])], '', { ...DEFAULT_LIMITS, wallMs: 20_000 });
  if (probe.code === 0 && probe.stdout === 'ok') return { ok: true };
  return { ok: false, reason: `bwrap could not start node: ${probe.stderr.trim().slice(0, 300) || `exit ${probe.code ?? probe.signal}`}` };
}

const MAX_OUTPUT = 64 * 1024 ** 2;

/** Run a command under prlimit (memory and CPU), feed it stdin, kill its process group at the wall clock. */
function spawnLimited(command: string[], stdin: string, limits: SandboxLimits, usePrlimit = true): Promise<SandboxRun> {
  const argv = usePrlimit ? ['prlimit', `--as=${limits.memoryBytes}`, `--cpu=${limits.cpuSeconds}`, '--core=0', '--', ...command] : command;
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let outputTooLarge = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, limits.wallMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (stdout.length > MAX_OUTPUT) {
        outputTooLarge = true;
        kill();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.on('error', (e) => {
      stderr += String(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, outputTooLarge });
    });
  });
}

/** How to start runs: sandboxed (the default) or, only when asked explicitly, a bare child process. */
export type RunnerMode = { sandbox: true; image: SandboxImage } | { sandbox: false; workerScript: string };

/**
 * Run one script (the worker, or in tests a probe) with `input` on stdin and
 * the dataset visible read-only. Sandboxed: the dataset is at
 * /data/<name>. Unsandboxed: at its host path, with prlimit when present.
 */
export function runConfined(mode: RunnerMode, input: string, dataset: { hostPath: string; name: string } | null, limits: SandboxLimits, script?: { hostPath: string; args?: string[] }): Promise<SandboxRun> {
  if (mode.sandbox) {
    let image = mode.image;
    let inside = image.worker;
    if (script) {
      inside = `${SANDBOX_APP_DIR}/${path.basename(script.hostPath)}`;
      image = { ...image, binds: [...image.binds, [fs.realpathSync(script.hostPath), inside]] };
    }
    return spawnLimited(['bwrap', ...bwrapArgs(image, dataset, limits, inside, script?.args ?? [])], input, limits);
  }
  const target = script?.hostPath ?? mode.workerScript;
  return spawnLimited([process.execPath, target, ...(script?.args ?? [])], input, limits, onPath('prlimit'));
}

/** The path of a dataset as the worker must open it in this mode. */
export function datasetPathInside(mode: RunnerMode, dataset: { hostPath: string; name: string }): { file: string; allowedDirectory: string } {
  if (mode.sandbox) return { file: `${SANDBOX_DATA_DIR}${dataset.name}`, allowedDirectory: SANDBOX_DATA_DIR };
  return { file: dataset.hostPath, allowedDirectory: `${path.dirname(dataset.hostPath)}${path.sep}` };
}
