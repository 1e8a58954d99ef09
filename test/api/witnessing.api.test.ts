/**
 * The service gathering cosignatures from two real witnesses over loopback
 * HTTP (TDS_WITNESSES), on the real database with the background loops
 * running: served checkpoints carry both cosignatures; a witness that hangs
 * delays neither the ledger nor the API and is counted in /metrics; a
 * witness that lost its state answers 409 and is brought back from the size
 * it returns; the stored cosignatures are append-only.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { freePort } from '../../src/db/embedded-postgres.js';
import { parseVerifierKey } from '../../src/ledger/checkpoint.js';
import { cosignerVerifierKey, parseCosignerKey, verifyCosignedCheckpoint } from '../../src/ledger/cosignature.js';
import { startWitness, type RunningWitness } from '../../src/witness/witness.server.js';

const keys = [generateKeyPair().secretKey, generateKeyPair().secretKey];
const names = ['w1.test/witness', 'w2.test/witness'];
const vkeys = keys.map((k, i) => cosignerVerifierKey(names[i], publicKeyOf(k)));
let ports: number[];
let dirs: string[];
let witnesses: Array<RunningWitness | null>;
let ctx: TestContext;
let auditor: Actor;

const startW = (i: number) => startWitness({ name: names[i], secretKey: keys[i], logKeys: [ctx.services.ledger.verifierKey()], stateDir: dirs[i], port: ports[i] });

beforeAll(async () => {
  ports = [await freePort(), await freePort()];
  dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'tds-witnessing-')));
  const TDS_WITNESSES = JSON.stringify(ports.map((p, i) => ({ url: `http://127.0.0.1:${p}`, vkey: vkeys[i] })));
  ctx = await createTestContext({ TDS_WITNESSES }, { background: true });
  witnesses = [await startW(0), await startW(1)];
  auditor = await makeParticipant(ctx, ['auditor']);
});
afterAll(async () => {
  for (const w of witnesses) await w?.close();
  await ctx.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const logKey = () => parseVerifierKey(ctx.services.ledger.verifierKey());
const wkeys = () => vkeys.map(parseCosignerKey);

async function servedCheckpoint(): Promise<string> {
  const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/checkpoint');
  expect(res.status).toBe(200);
  return res.text;
}

/** Polls the served checkpoint until `ok` holds for it (the background loops do the work); fails after 15 s. */
async function until(ok: (note: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const note = await servedCheckpoint();
    if (ok(note)) return note;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last checkpoint:\n${note}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sizeOf = (note: string) => Number(note.split('\n')[1]);
const quorumHolds = (note: string, q: number) => {
  try {
    verifyCosignedCheckpoint(note, logKey(), wkeys(), q);
    return true;
  } catch {
    return false;
  }
};

describe('witness cosignatures on the service', () => {
  it('serves each new checkpoint with both witnesses\' cosignatures', async () => {
    for (let round = 0; round < 3; round++) {
      await makeParticipant(ctx, ['consumer']);
      const size = await ctx.services.ledger.treeSize();
      const note = await until((n) => sizeOf(n) >= size && quorumHolds(n, 2), `size ${size} cosigned by both`);
      expect(verifyCosignedCheckpoint(note, logKey(), wkeys(), 2).cosigned.map((c) => c.name)).toEqual(names);
    }
    const stored = (await ctx.ds.query('SELECT count(DISTINCT witness)::int AS n FROM ledger_cosignatures')) as Array<{ n: number }>;
    expect(stored[0].n).toBe(2);
  });

  it('goes on when a witness hangs: the ledger grows, the checkpoint is served with one cosignature, and /metrics counts the failures', async () => {
    await witnesses[1]!.close();
    witnesses[1] = null;
    // A black hole on the witness's port: accepts connections and never answers.
    const sockets: net.Socket[] = [];
    const hole = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hole.listen(ports[1], '127.0.0.1', () => r()));
    try {
      for (let i = 0; i < 3; i++) await makeParticipant(ctx, ['provider']);
      // Integrated first: otherwise the size read can still be one both witnesses cosigned before the hang.
      await ctx.services.ledger.flush();
      const size = await ctx.services.ledger.treeSize();
      const note = await until((n) => sizeOf(n) >= size, `size ${size} served`);
      expect(quorumHolds(note, 1)).toBe(true);
      expect(() => verifyCosignedCheckpoint(note, logKey(), wkeys(), 2)).toThrow(/1 of the 2 witness cosignature\(s\) required.*missing: w2\.test\/witness/);
      // The API answers while the witness hangs.
      expect((await signed(ctx.app, auditor, 'get', '/v1/ledger/mine')).status).toBe(200);
      const deadline = Date.now() + 15_000;
      let metrics = '';
      while (!/tds_witness_submissions_total\{witness="w2\.test\/witness",outcome="unreachable"\} [1-9]/.test(metrics)) {
        if (Date.now() > deadline) throw new Error(`no unreachable count in:\n${metrics}`);
        await new Promise((r) => setTimeout(r, 200));
        metrics = (await request(ctx.app).get('/metrics')).text;
      }
      expect(metrics).toMatch(/tds_witness_submissions_total\{witness="w1\.test\/witness",outcome="cosigned"\} [1-9]/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hole.close(r));
    }
  });

  it('brings back a witness that lost its state: 409 with its size, resubmitted from there', async () => {
    fs.rmSync(dirs[1], { recursive: true, force: true });
    witnesses[1] = await startW(1);
    await makeParticipant(ctx, ['consumer']);
    const size = await ctx.services.ledger.treeSize();
    await until((n) => sizeOf(n) >= size && quorumHolds(n, 2), `size ${size} cosigned by both again`);
    const metrics = (await request(ctx.app).get('/metrics')).text;
    expect(metrics).toMatch(/tds_witness_submissions_total\{witness="w2\.test\/witness",outcome="conflict"\} [1-9]/);
  });

  it('keeps cosignatures append-only', async () => {
    await expect(ctx.ds.query('DELETE FROM ledger_cosignatures')).rejects.toThrow(/append-only/);
    await expect(ctx.ds.query(`UPDATE ledger_cosignatures SET signature = signature || 'x'`)).rejects.toThrow(/append-only/);
  });
});
