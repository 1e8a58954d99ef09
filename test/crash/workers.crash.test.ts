/**
 * TDS_WORKERS=3 as separate OS processes: one primary and three node:cluster
 * workers on one port. Several workers really serve (their own pools show in
 * pg_stat_activity), a request token is accepted once whichever worker sees
 * it, background work (sequencer and checkpointer, sweeps, witnesses) runs
 * in exactly one process and still signs what the workers queue, a killed
 * worker is replaced without a second copy of the background work, and a
 * SIGTERM stops everything cleanly.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../helpers/context.js';
import { call, newContract, newParticipant, operatorOf, startService, stopService, type ServiceProcess } from './service-process.js';
import { signRequestToken } from '../../src/client/request-token.js';

/** Children of a pid, from /proc (the cluster's workers). */
function childrenOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

/** One GET on a connection of its own (no keep-alive), so the cluster hands each to a worker afresh. */
function getOnNewConnection(base: string, p: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${p}`, { agent: false, headers: { authorization: `Bearer ${token}`, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const backgroundLines = (out: string): number => out.split('\n').filter((l) => l.includes('background work started')).length;

describe('several worker processes behind one port', () => {
  let svc: ServiceProcess | undefined;
  let db: pg.Client | undefined;
  afterAll(async () => {
    if (svc) await stopService(svc, 'SIGKILL');
    await db?.end();
  });

  it('serve from several processes, refuse a replayed token across them, run background work once, replace a dead worker', async () => {
    const url = await createTestDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-workers-'));
    svc = await startService({ DATABASE_URL: url, TDS_DATA_DIR: dataDir, TDS_WORKERS: '3', TDS_DB_POOL_SIZE: '4', LOG_LEVEL: 'info' });
    db = new pg.Client({ connectionString: url });
    await db.connect();
    // /readyz answers as soon as the first worker listens; the primary reports when all three do.
    for (const until = Date.now() + 120_000; !/tds listening on http:\/\/\S+ \(3 workers, primary \d+\)/.test(svc.output()); ) {
      if (Date.now() > until) throw new Error(`workers did not all start: ${svc.output().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const workers = childrenOf(svc.child.pid!);
    expect(workers).toHaveLength(3);

    const operator = operatorOf(dataDir);
    const provider = await newParticipant(svc.base, operator, ['provider']);
    const consumer = await newParticipant(svc.base, operator, ['consumer']);
    const contractId = await newContract(svc.base, provider, consumer, 1000);

    // Many requests, each on a new connection: the primary spreads connections over the workers.
    const statuses = await Promise.all(Array.from({ length: 24 }, async () => getOnNewConnection(svc!.base, `/v1/participants/${consumer.iss}`, await signRequestToken(consumer, 'GET', `/v1/participants/${consumer.iss}`))));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const apps = (await db.query<{ name: string }>("SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tds worker %'")).rows.map((r) => r.name);
    expect(apps.length).toBeGreaterThanOrEqual(2);

    // One token, sent at once on many connections (so to several workers): accepted exactly once.
    const token = await signRequestToken(consumer, 'GET', `/v1/participants/${consumer.iss}`);
    const replays = await Promise.all(Array.from({ length: 12 }, () => getOnNewConnection(svc!.base, `/v1/participants/${consumer.iss}`, token)));
    expect(replays.filter((s) => s === 200)).toHaveLength(1);
    expect(replays.filter((s) => s === 401)).toHaveLength(11);

    // Background work: started once, in the primary, and it signs what the workers queued.
    expect(backgroundLines(svc.output())).toBe(1);
    const jobs = await Promise.all(Array.from({ length: 6 }, () => call(svc!.base, consumer, 'POST', '/v1/jobs', { contractId, purpose: 'DUO:0000006' })));
    expect(jobs.map((j) => j.status)).toEqual(Array(6).fill(201));
    const settled = async (): Promise<void> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = (await db!.query<{ queued: number; entries: number; cp: number }>('SELECT (SELECT count(*) FROM ledger_queue)::int AS queued, (SELECT count(*) FROM ledger_entries)::int AS entries, (SELECT coalesce(max(tree_size), 0) FROM ledger_checkpoints)::int AS cp')).rows[0];
        if (r.queued === 0 && r.entries > 0 && r.cp === r.entries) return;
        if (Date.now() > deadline) throw new Error(`ledger did not settle: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    };
    await settled();

    // A worker killed with -9 is replaced; the background work is not started a second time.
    process.kill(workers[0], 'SIGKILL');
    const deadline = Date.now() + 60_000;
    while (!(childrenOf(svc.child.pid!).length === 3 && !childrenOf(svc.child.pid!).includes(workers[0]))) {
      if (Date.now() > deadline) throw new Error(`no replacement worker: ${svc.output().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const after = await Promise.all(Array.from({ length: 9 }, async () => getOnNewConnection(svc!.base, '/readyz', 'x')));
    expect(after.every((s) => s === 200)).toBe(true);
    const more = await call(svc.base, consumer, 'POST', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
    expect(more.status).toBe(201);
    await settled();
    expect(backgroundLines(svc.output())).toBe(1);

    // SIGTERM: workers, then the background loops (last flush), then exit 0.
    const exited = new Promise<number | null>((res) => svc!.child.once('exit', (code) => res(code)));
    svc.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(svc.output()).not.toMatch(/final ledger flush not completed/);
    expect(childrenOf(svc.child.pid!)).toEqual([]);
    svc = undefined;
  });
});
