/**
 * Entry point: loadConfig -> database (embedded unless DATABASE_URL) ->
 * migrations -> operator -> buildApp -> listen. The only module with side
 * effects at import. SIGINT/SIGTERM stop HTTP, background work and the
 * embedded database cleanly.
 */
import http from 'node:http';
import path from 'node:path';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createDataSource, openDatabase } from './db/data-source.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './db/embedded-postgres.js';
import { migrations } from '../migrations/index.js';
import { buildApp } from './app.js';
import { createServices, entities } from './services.js';
import { startBackgroundWork } from './background.js';
import { loadServiceKeys } from './service-keys.js';
import { loadSchemas } from './http/validation.js';
import { ensureOperator } from './participants/bootstrap-operator.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tds: cannot start: ${e.problems.join('; ')}`);
      process.exit(2);
    }
    throw e;
  }
  const logger = pino({ level: config.logLevel });
  const schemas = loadSchemas();
  let embedded: EmbeddedServer | undefined;
  let url = config.databaseUrl;
  if (!url) {
    logger.info({ dir: path.join(config.dataDir, 'pg') }, 'starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(config.dataDir, (m) => logger.debug({ pg: m.trim() }, 'postgres'));
    url = embedded.url;
  }
  const ds = createDataSource({ url, entities, migrations, poolSize: config.dbPoolSize });
  await openDatabase(ds);
  const keys = await loadServiceKeys(config.dataDir);
  const services = createServices(ds, config, keys, logger);
  const op = await ensureOperator(ds, services.participants, config.dataDir);
  const background = startBackgroundWork(services, logger);
  const app = buildApp({ config, ds, logger, keys, schemas, services });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const port = (server.address() as { port: number }).port;
  console.log(`tds listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`);
  if (op.file) console.log(`operator credentials: ${op.file}`);
  else console.log('operator credentials: the database already has an operator whose operator.json is in another data directory');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    server.close();
    server.closeIdleConnections?.();
    await background.stop();
    await ds.destroy().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error('tds: start-up failed:', e);
  process.exit(1);
});
