/**
 * kill -9 under load: the service is killed at random moments ten times and
 * restarted each time. Afterwards the ledger verifies end to end, the number
 * of job.authorized entries equals the sum of the contract counters and is at
 * least the number of 201s the client saw, and every 201 has its entry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../helpers/context.js';
import { call, newContract, newParticipant, operatorOf, startService, stopService, type ServiceProcess } from './service-process.js';
import { verifyLog } from '../../src/ledger/verify-log.js';
import type { Signer } from '../../src/client/request-token.js';

type Served = { index: number; entry: unknown; leafHash: string; chainHash: string };

/** Every ledger entry, page by page, as an auditor downloads them. */
async function fetchAllEntries(base: string, auditor: Signer): Promise<Served[]> {
  const out: Served[] = [];
  for (;;) {
    const res = await call(base, auditor, 'GET', `/v1/ledger/entries?start=${out.length}&limit=1000`);
    if (res.status !== 200) throw new Error(`entries: ${JSON.stringify(res)}`);
    const page = res.body.entries as Served[];
    out.push(...page);
    if (page.length === 0 || out.length >= (res.body.treeSize as number)) return out;
  }
}

/** A text/plain ledger resource (checkpoint, key). */
async function text(base: string, signer: Signer, p: string): Promise<string> {
  const res = await call(base, signer, 'GET', p);
  if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
  return res.body.text as string;
}

describe('kill -9 under concurrent job load', () => {
  it('loses and double-counts nothing across 10 crashes', async () => {
    const url = await createTestDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-crash-'));
    const env = { DATABASE_URL: url, TDS_DATA_DIR: dataDir };
    let svc: ServiceProcess = await startService(env);
    const operator = operatorOf(dataDir);
    const provider = await newParticipant(svc.base, operator, ['provider']);
    const consumer = await newParticipant(svc.base, operator, ['consumer']);
    const contracts = [await newContract(svc.base, provider, consumer, 100000), await newContract(svc.base, provider, consumer, 100000)];
    const accepted = new Set<string>();
    let other = 0;

    for (let round = 0; round < 10; round++) {
      let stop = false;
      const workers = Array.from({ length: 16 }, async (_, w) => {
        while (!stop) {
          try {
            const r = await call(svc.base, consumer, 'POST', '/v1/jobs', { contractId: contracts[w % 2], purpose: 'DUO:0000006' });
            if (r.status === 201) accepted.add(r.body.id as string);
            else other++;
          } catch {
            other++; // connection reset by the kill
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 1200)));
      await stopService(svc, 'SIGKILL');
      stop = true;
      await Promise.all(workers);
      svc = await startService(env, svc.port);
    }

    // Let the restarted service integrate the queue and sign a checkpoint covering everything.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const q = await db.query(`SELECT (SELECT count(*) FROM ledger_queue)::int AS queued, (SELECT count(*) FROM ledger_entries)::int AS entries, (SELECT coalesce(max(tree_size), 0) FROM ledger_checkpoints)::int AS cp`);
      const { queued, entries, cp } = q.rows[0] as { queued: number; entries: number; cp: number };
      if (queued === 0 && cp === entries) break;
      if (Date.now() > deadline) throw new Error(`ledger did not settle: ${JSON.stringify(q.rows[0])}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const counters = await db.query(`SELECT coalesce(sum(invocations_used), 0)::int AS used FROM contracts`);
    const authorized = await db.query(`SELECT subjects->>'job' AS job FROM ledger_entries WHERE kind = 'job.authorized'`);
    const jobs = await db.query(`SELECT count(*)::int AS n FROM jobs`);
    await db.end();

    const ledgerJobs = new Set(authorized.rows.map((r: { job: string }) => r.job));
    expect(ledgerJobs.size).toBe(authorized.rows.length);
    expect(authorized.rows.length).toBe(counters.rows[0].used);
    expect(jobs.rows[0].n).toBe(counters.rows[0].used);
    expect(authorized.rows.length).toBeGreaterThanOrEqual(accepted.size);
    expect([...accepted].filter((id) => !ledgerJobs.has(id))).toEqual([]);
    expect(accepted.size).toBeGreaterThan(0);

    const entries = await fetchAllEntries(svc.base, operator);
    const result = verifyLog({ entries, checkpointNote: await text(svc.base, operator, '/v1/ledger/checkpoint'), verifierKey: await text(svc.base, operator, '/v1/ledger/key') });
    expect(result).toMatchObject({ ok: true, size: entries.length });
    // Requests cut off by a kill are neither counted as accepted nor required to be in the ledger.
    expect(other).toBeGreaterThanOrEqual(0);
    await stopService(svc);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
