/**
 * Once per test run: a real PostgreSQL (embedded unless DATABASE_URL is set)
 * and an empty template database, migrated by the first test file that needs
 * it (test/helpers/context.ts). Each API test file then gets its own database
 * copied from the template (CREATE DATABASE ... TEMPLATE).
 *
 * Jest loads this file through Node's own resolver, which cannot import our
 * TypeScript sources, so it uses only packages and the plain-JavaScript
 * cluster launcher the service uses too (src/db/pg-cluster.mjs: as root it
 * places binaries where the postgres user can reach them, so a checkout in a
 * 0700 folder runs the suite).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startCluster } from '../src/db/pg-cluster.mjs';

declare global {
  var __TDS_PG_STOP__: (() => Promise<void>) | undefined;
  var __TDS_TMP__: string | undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-test-pg-'));
    fs.chmodSync(dir, 0o711);
    globalThis.__TDS_TMP__ = dir;
    const password = randomBytes(12).toString('hex');
    const port = await freePort();
    const server = await startCluster({
      dataDir: path.join(dir, 'pg'),
      password,
      port,
      flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=400', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
      // Ctrl-C on the test run stops the server too.
      ownProcessGroup: false,
    });
    globalThis.__TDS_PG_STOP__ = () => server.stop();
    adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  }
  const template = `tds_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  process.env.TDS_TEST_ADMIN_URL = adminUrl;
  process.env.TDS_TEST_TEMPLATE = template;
}
