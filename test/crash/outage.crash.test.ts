/**
 * Database outage under load: PostgreSQL stops for ~10 s while clients keep
 * sending jobs. Requests get 503 problem+json quickly (no hangs, no 500s),
 * /readyz says not ready, and the service recovers by itself when the
 * database returns, with nothing half-written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from '../../src/db/embedded-postgres.js';
import { startCluster, type ClusterOptions } from '../../src/db/pg-cluster.mjs';
import { call, newContract, newParticipant, operatorOf, startService, stopService } from './service-process.js';

describe('database outage', () => {
  it('answers 503 during the outage and recovers without half-written state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-outage-'));
    fs.chmodSync(dir, 0o711);
    const password = randomBytes(8).toString('hex');
    const port = await freePort();
    const cluster: ClusterOptions = { dataDir: path.join(dir, 'pg'), password, port, flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], ownProcessGroup: false };
    let server = await startCluster(cluster);
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const dataDir = path.join(dir, 'data');
    const svc = await startService({ DATABASE_URL: url, TDS_DATA_DIR: dataDir });
    try {
      const operator = operatorOf(dataDir);
      const provider = await newParticipant(svc.base, operator, ['provider']);
      const consumer = await newParticipant(svc.base, operator, ['consumer']);
      const contractId = await newContract(svc.base, provider, consumer, 100000);

      const statuses: Array<{ phase: string; status: number; code?: string; ms: number }> = [];
      let phase = 'before';
      let stop = false;
      const workers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const t0 = Date.now();
          try {
            const r = await call(svc.base, consumer, 'POST', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
            statuses.push({ phase, status: r.status, code: r.body.code as string | undefined, ms: Date.now() - t0 });
          } catch (e) {
            statuses.push({ phase, status: -1, code: String(e), ms: Date.now() - t0 });
          }
          if (phase === 'outage') await new Promise((r) => setTimeout(r, 50));
        }
      });
      await new Promise((r) => setTimeout(r, 1000));
      phase = 'outage';
      await server.stop();
      await new Promise((r) => setTimeout(r, 2000));
      const ready = await fetch(`${svc.base}/readyz`);
      expect(ready.status).toBe(503);
      const health = await fetch(`${svc.base}/healthz`);
      expect(health.status).toBe(200);
      await new Promise((r) => setTimeout(r, 8000));
      phase = 'recovering';
      server = await startCluster(cluster);
      // Recovery by itself: no restart of the service.
      const deadline = Date.now() + 30_000;
      while (!(await fetch(`${svc.base}/readyz`)).ok) {
        if (Date.now() > deadline) throw new Error('service did not recover');
        await new Promise((r) => setTimeout(r, 200));
      }
      phase = 'after';
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
      await Promise.all(workers);

      const during = statuses.filter((s) => s.phase === 'outage');
      expect(during.length).toBeGreaterThan(10);
      // Each request during the outage ends as a 503 (or a 201/403 that committed just before); never a 500 or a hang.
      expect(during.filter((s) => ![503, 201].includes(s.status))).toEqual([]);
      expect(during.filter((s) => s.status === 503).every((s) => s.code === 'DATABASE_UNAVAILABLE')).toBe(true);
      expect(Math.max(...during.map((s) => s.ms))).toBeLessThan(15_000);
      expect(statuses.filter((s) => s.phase === 'after' && s.status === 201).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s.status === 500 || s.status === -1)).toEqual([]);

      // Nothing half-written: every counted invocation has its job and its ledger entry.
      const ok201 = statuses.filter((s) => s.status === 201).length;
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const settle = Date.now() + 20_000;
      for (;;) {
        const q = await db.query(`SELECT (SELECT count(*) FROM ledger_queue)::int AS queued`);
        if (q.rows[0].queued === 0) break;
        if (Date.now() > settle) throw new Error('ledger queue did not drain');
        await new Promise((r) => setTimeout(r, 200));
      }
      const r = await db.query(`SELECT (SELECT invocations_used FROM contracts WHERE id = $1)::int AS used,
                                       (SELECT count(*) FROM jobs WHERE contract_id = $1)::int AS jobs,
                                       (SELECT count(*) FROM ledger_entries WHERE kind = 'job.authorized' AND subjects @> jsonb_build_object('contract', $1::text))::int AS entries`, [contractId]);
      await db.end();
      expect(r.rows[0].jobs).toBe(r.rows[0].used);
      expect(r.rows[0].entries).toBe(r.rows[0].used);
      expect(r.rows[0].used).toBeGreaterThanOrEqual(ok201);
    } finally {
      await stopService(svc);
      await server.stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
