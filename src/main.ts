/**
 * Entry point: loadConfig -> database (embedded unless DATABASE_URL) ->
 * migrations -> operator -> buildApp -> listen. The only module with side
 * effects at import. SIGINT/SIGTERM stop HTTP, background work and the
 * embedded database cleanly.
 *
 * Process layout (TDS_WORKERS): with 1 (the default) this one process does
 * everything. With N > 1 this process is the primary of a node:cluster: it
 * starts the embedded database (once), applies the migrations, creates the
 * operator and the service keys, runs every background loop (ledger
 * sequencer and checkpointer, witness cosigning, expiry and token sweeps)
 * and serves no HTTP; it forks N workers that only serve HTTP on the one
 * port (the primary hands them connections), each with its own pool of
 * TDS_DB_POOL_SIZE connections. A worker that dies is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDataSource, openDatabase } from './db/data-source.js';
import { DataDirInUseError, startEmbeddedPostgres, type EmbeddedServer } from './db/embedded-postgres.js';
import { migrations } from '../migrations/index.js';
import { buildApp } from './app.js';
import { createServices, entities } from './services.js';
import { startBackgroundWork } from './background.js';
import { loadServiceKeys } from './service-keys.js';
import { loadSchemas } from './http/validation.js';
import { answerClientErrors } from './http/client-errors.js';
import { ensureOperator } from './participants/bootstrap-operator.js';

/** Connections of the primary's own pool under TDS_WORKERS > 1: the background loops take one or two at a time. */
const PRIMARY_POOL_SIZE = 4;
/** How long a stop waits for workers (and in-flight requests) before it kills them. */
const STOP_GRACE_MS = 30_000;

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tds: cannot start: ${e.problems.join('; ')}`);
      process.exit(2);
    }
    throw e;
  }
}

/** A start-up refusal with a cause the person can fix: one line, no stack. */
class StartupRefusal extends Error {
  override readonly name = 'StartupRefusal';
}

/**
 * The HTTP port must be free before anything else starts (the embedded
 * database included): a second `npm start` says so and changes nothing.
 */
async function ensurePortFree(config: Config): Promise<void> {
  if (config.port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE'
        ? new StartupRefusal(`port ${config.port} is already in use on ${config.host} (is tds already running? stop it, or set PORT)`)
        : e);
    });
    probe.listen(config.port, config.host, () => probe.close(() => resolve()));
  });
}

/** The database URL to use: DATABASE_URL, or an embedded server started here. */
async function database(config: Config, logger: Logger): Promise<{ url: string; embedded?: EmbeddedServer }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  logger.info({ dir: path.join(config.dataDir, 'pg') }, 'starting embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres(config.dataDir, (m) => logger.debug({ pg: m.trim() }, 'postgres'));
  return { url: embedded.url, embedded };
}

/** What this process serves HTTP with: the app on its own pool, listening on the configured port (shared under cluster). */
async function serve(config: Config, ds: DataSource, logger: Logger): Promise<http.Server> {
  const keys = await loadServiceKeys(config.dataDir);
  const services = createServices(ds, config, keys, logger);
  const app = buildApp({ config, ds, logger, keys, schemas: loadSchemas(), services });
  const server = answerClientErrors(http.createServer(app));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  return server;
}

const listening = (config: Config, port: number): string => `tds listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

function printOperator(op: { file: string | null }): void {
  if (op.file) console.log(`operator credentials: ${op.file}`);
  else console.log('operator credentials: the database already has an operator whose operator.json is in another data directory');
}

/** Stops accepting, lets in-flight requests finish (bounded), closes idle keep-alive connections. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, STOP_GRACE_MS);
    t.unref();
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}

/** What a process owns and lets go of last: its background loops, its pool, the embedded database. */
interface Owned {
  background?: { stop(): Promise<void> };
  ds: DataSource;
  embedded?: EmbeddedServer;
}

/** Let go of what the process owns, in that order: the loops' last ledger flush needs the pool, the pool the database. */
async function letGo(owned: Owned, logger: Logger): Promise<void> {
  await owned.background?.stop().catch((err: unknown) => logger.warn({ err }, 'background work did not stop cleanly'));
  await owned.ds.destroy().catch(() => undefined);
  await owned.embedded?.stop().catch(() => undefined);
}

/**
 * SIGINT and SIGTERM stop the process once: `first` (stop serving), then what
 * it owns (letGo), then exit 0. Returns the stop (for a failed start) and
 * whether it has begun (a worker's exit is then expected).
 */
function stopOnSignals(logger: Logger, owned: Owned, first: () => Promise<void>): { stop(reason: string): Promise<void>; stopping(): boolean } {
  let stopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, 'stopping');
    await first();
    await letGo(owned, logger);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return { stop, stopping: () => stopping };
}

/** TDS_WORKERS = 1: everything in this process, as before the cluster existed. */
async function single(config: Config, logger: Logger): Promise<void> {
  const { url, embedded } = await database(config, logger);
  const ds = createDataSource({ url, entities, migrations, poolSize: config.dbPoolSize });
  await openDatabase(ds);
  const keys = await loadServiceKeys(config.dataDir);
  const services = createServices(ds, config, keys, logger);
  const op = await ensureOperator(ds, services.participants, config.dataDir);
  const background = startBackgroundWork(services, logger);
  const app = buildApp({ config, ds, logger, keys, schemas: loadSchemas(), services });
  const server = answerClientErrors(http.createServer(app));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
  } catch (e) {
    // Taken meanwhile: do not leave the embedded database running behind a process that cannot serve.
    await letGo({ background, ds, embedded }, logger);
    throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new StartupRefusal(`port ${config.port} is already in use on ${config.host} (is tds already running? stop it, or set PORT)`) : e;
  }
  console.log(listening(config, (server.address() as { port: number }).port));
  printOperator(op);

  stopOnSignals(logger, { background, ds, embedded }, async () => {
    server.close();
    server.closeIdleConnections?.();
  });
}

/**
 * TDS_WORKERS > 1, the primary: database once, migrations once, operator,
 * keys, background work (exactly here), then the workers. Stopping: workers
 * first (they finish their requests), then the background loops (a last
 * ledger flush), then the database.
 */
async function primary(config: Config, logger: Logger): Promise<void> {
  const { url, embedded } = await database(config, logger);
  const ds = createDataSource({ url, entities, migrations, poolSize: PRIMARY_POOL_SIZE, applicationName: 'tds primary' });
  await openDatabase(ds);
  // Created before any worker starts, so the workers only ever read them.
  const keys = await loadServiceKeys(config.dataDir);
  const services = createServices(ds, config, keys, logger);
  const op = await ensureOperator(ds, services.participants, config.dataDir);
  const background = startBackgroundWork(services, logger);
  logger.info({ role: 'primary', pid: process.pid, workers: config.workers }, 'background work started in the primary');

  const workers = new Set<Worker>();
  let port = config.port;
  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      // The workers reach the database this process chose (the embedded one's socket, or DATABASE_URL).
      const w = cluster.fork({ DATABASE_URL: url });
      workers.add(w);
      let up = false;
      w.once('listening', (address) => {
        up = true;
        port = address.port;
        resolve(w);
      });
      w.once('exit', (code, signal) => {
        workers.delete(w);
        if (lifecycle.stopping()) return;
        if (!up) return reject(new Error(`worker ${w.process.pid} exited (${signal ?? code}) before listening`));
        logger.error({ pid: w.process.pid, code, signal }, 'worker exited unexpectedly; starting a replacement');
        setTimeout(() => void fork().catch((err: unknown) => logger.error({ err }, 'replacement worker failed to start')), 1000).unref();
      });
    });
  // Workers first (they finish their requests), then the background loops, the pool and the database.
  const lifecycle = stopOnSignals(logger, { background, ds, embedded }, async () => {
    const gone = [...workers].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) w.process.kill('SIGTERM');
    const kill = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await Promise.all(gone);
    clearTimeout(kill);
  });
  try {
    // One at a time: the first one binds the port (PORT=0 picks one), the others share it.
    for (let i = 0; i < config.workers; i++) await fork();
  } catch (e) {
    logger.error({ err: e }, 'a worker failed to start');
    await lifecycle.stop('startup-failure');
    return;
  }
  console.log(`${listening(config, port)} (${config.workers} workers, primary ${process.pid})`);
  printOperator(op);
}

/** A worker: HTTP only, on its own pool; migrations, operator and background work belong to the primary. */
async function worker(config: Config, logger: Logger): Promise<void> {
  if (!config.databaseUrl) throw new Error('a worker needs the DATABASE_URL its primary passes on');
  const ds = createDataSource({ url: config.databaseUrl, entities, migrations, poolSize: config.dbPoolSize, applicationName: `tds worker ${cluster.worker?.id ?? '?'}` });
  await ds.initialize();
  const log = logger.child({ worker: cluster.worker?.id });
  const server = await serve(config, ds, log);
  // SIGINT from a terminal's Ctrl-C reaches the whole group; the primary also sends SIGTERM.
  stopOnSignals(log, { ds }, () => closeServer(server));
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel });
  if (cluster.isWorker) return worker(config, logger);
  await ensurePortFree(config);
  if (config.workers > 1) return primary(config, logger);
  return single(config, logger);
}

main().catch((e: unknown) => {
  if (e instanceof StartupRefusal || e instanceof DataDirInUseError) {
    console.error(`tds: cannot start: ${e.message}`);
    process.exit(1);
  }
  console.error('tds: start-up failed:', e);
  process.exit(1);
});
