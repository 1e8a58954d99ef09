/**
 * End to end on the real database with every piece a separate process: the
 * built service and two `tds witness` processes. Every checkpoint served
 * carries both cosignatures soon after it is signed (polled, never timed);
 * `tds verify --witness W1 --witness W2 --quorum 2` and `tds receipt verify`
 * pass; with one witness killed the ledger goes on, the checkpoint carries
 * one cosignature, and quorum 2 fails clearly.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/context.js';
import { call, newContract, newParticipant, operatorOf, startService, stopService, type ServiceProcess } from './service-process.js';
import { startWitnessProcess, stopWitnessProcess, witnessKeyFile, type WitnessProcess } from './witness-process.js';
import { freePort } from '../../src/db/embedded-postgres.js';
import { loadServiceKeys } from '../../src/service-keys.js';
import { parseVerifierKey, verifierKey } from '../../src/ledger/checkpoint.js';
import { parseCosignerKey, verifyCosignedCheckpoint } from '../../src/ledger/cosignature.js';
import type { Signer } from '../../src/client/request-token.js';

const ORIGIN = 'tds.e2e/ledger';

function tds(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.resolve('dist/src/cli/tds.js'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function checkpoint(base: string, who: Signer): Promise<string> {
  const r = await call(base, who, 'GET', '/v1/ledger/checkpoint');
  if (r.status !== 200) throw new Error(`checkpoint: ${r.status}`);
  return r.body.text as string;
}

describe('two witness processes and the service process', () => {
  it('cosigns every checkpoint, verifies with quorum 2, and goes on with one witness down', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-e2e-witness-'));
    const dataDir = path.join(dir, 'data');
    const keys = await loadServiceKeys(dataDir);
    const logKey = verifierKey(ORIGIN, keys.ledger.publicKey);
    const witnesses: WitnessProcess[] = [];
    for (const i of [1, 2]) {
      const keyFile = await witnessKeyFile(path.join(dir, `w${i}.json`));
      witnesses.push(await startWitnessProcess({ name: `w${i}.e2e/witness`, keyFile, stateDir: path.join(dir, `w${i}-state`), logKey, port: await freePort() }));
    }
    const vkeys = witnesses.map((w) => w.vkey);
    const env = { DATABASE_URL: await createTestDatabase(), TDS_DATA_DIR: dataDir, TDS_LEDGER_ORIGIN: ORIGIN, TDS_WITNESSES: JSON.stringify(witnesses.map((w) => ({ url: w.url, vkey: w.vkey }))) };
    let svc: ServiceProcess | undefined;
    try {
      svc = await startService(env);
      const base = svc.base;
      const operator = operatorOf(dataDir);
      const auditor = await newParticipant(base, operator, ['auditor']);
      const provider = await newParticipant(base, operator, ['provider']);
      const consumer = await newParticipant(base, operator, ['consumer']);
      const contract = await newContract(base, provider, consumer, 100);
      const trust = { log: parseVerifierKey(logKey), wit: vkeys.map(parseCosignerKey) };

      /** Polls until the served checkpoint covers at least `size` and `ok` holds for it. */
      const until = async (size: number, ok: (note: string) => boolean, what: string): Promise<string> => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const note = await checkpoint(base, auditor);
          if (Number(note.split('\n')[1]) >= size && ok(note)) return note;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${note}\n${svc!.output()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const quorum = (q: number) => (note: string) => {
        try {
          verifyCosignedCheckpoint(note, trust.log, trust.wit, q);
          return true;
        } catch {
          return false;
        }
      };
      const treeSize = async () => (await call(base, auditor, 'GET', '/v1/ledger/entries?start=0&limit=1')).body.treeSize as number;

      /** The integrated size once it exceeds `n` (the sequencer runs shortly after each 201). */
      const grownPast = async (n: number): Promise<number> => {
        for (;;) {
          const size = await treeSize();
          if (size > n) return size;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      let jobId = '';
      for (let round = 0; round < 5; round++) {
        const start = await treeSize();
        const job = await call(base, consumer, 'POST', '/v1/jobs', { contractId: contract, purpose: 'DUO:0000006' });
        expect(job.status).toBe(201);
        jobId = job.body.id as string;
        await until(await grownPast(start), quorum(2), `round ${round} cosigned by both`);
      }

      const keyFile = path.join(dir, 'auditor.json');
      fs.writeFileSync(keyFile, JSON.stringify({ id: auditor.iss, kid: auditor.kid, privateJwk: auditor.privateJwk }), { mode: 0o600 });
      const wArgs = vkeys.flatMap((v) => ['--witness', v]);
      const ok = await tds(['verify', '--service', base, '--key', keyFile, '--log-key', logKey, ...wArgs, '--quorum', '2', '--state', path.join(dir, 'verify.json')]);
      expect(ok).toMatchObject({ code: 0 });
      expect(ok.out).toMatch(/2 of 2 witness cosignature\(s\) \(quorum 2\): w1\.e2e\/witness, w2\.e2e\/witness/);

      const receipt = await call(base, consumer, 'GET', `/v1/jobs/${jobId}/receipt`);
      expect(receipt.status).toBe(200);
      const receiptFile = path.join(dir, 'job.tlog-proof');
      fs.writeFileSync(receiptFile, receipt.body.text as string);
      const rv = await tds(['receipt', 'verify', receiptFile, '--log-key', logKey, ...wArgs, '--quorum', '2']);
      expect(rv.code).toBe(0);
      expect(rv.out).toMatch(/^OK: entry \d+ is in checkpoint tds\.e2e\/ledger size \d+, signed by the log and cosigned by w1\.e2e\/witness, w2\.e2e\/witness \(quorum 2\)/);

      // One witness down: the ledger goes on and the checkpoint carries the other cosignature.
      const before = await treeSize();
      await stopWitnessProcess(witnesses[1], 'SIGKILL');
      for (let i = 0; i < 3; i++) expect((await call(base, consumer, 'POST', '/v1/jobs', { contractId: contract, purpose: 'DUO:0000006' })).status).toBe(201);
      // The three releases are integrated by the sequencer shortly after their 201s.
      const size = await grownPast(before + 2);
      const note = await until(size, quorum(1), 'the newest checkpoint served with one cosignature');
      expect(quorum(2)(note)).toBe(false);
      expect(verifyCosignedCheckpoint(note, trust.log, trust.wit, 1).cosigned.map((c) => c.name)).toEqual(['w1.e2e/witness']);
      const failed = await tds(['verify', '--service', base, '--key', keyFile, '--log-key', logKey, ...wArgs, '--quorum', '2', '--state', path.join(dir, 'verify.json')]);
      expect(failed.code).toBe(1);
      expect(failed.out).toMatch(/FAILED: witness quorum: checkpoint tds\.e2e\/ledger size \d+ has 1 of the 2 witness cosignature\(s\) required .*missing: w2\.e2e\/witness/);
      expect((await tds(['verify', '--service', base, '--key', keyFile, '--log-key', logKey, ...wArgs, '--quorum', '1', '--state', path.join(dir, 'verify.json')])).code).toBe(0);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/tds_witness_submissions_total\{witness="w2\.e2e\/witness",outcome="unreachable"\} [1-9]/);
    } finally {
      if (svc) await stopService(svc);
      for (const w of witnesses) await stopWitnessProcess(w);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
