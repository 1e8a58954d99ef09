/**
 * Witnessing figures on the grown ledger (1M+ entries in the full run):
 * entry -> checkpoint cosigned by 2 witnesses (two real witness servers on
 * loopback HTTP, the real sequencer and the real cosigning loops, one event
 * queued at a time under no other load), and GET /ledger/mine's work
 * (LedgerService.entriesOfParty: the party-index range scan plus every
 * inclusion proof) for a party with entries spread across the whole log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { pino } from 'pino';
import { generateKeyPair, publicKeyOf } from '../src/crypto/ed25519.js';
import { freePort } from '../src/db/embedded-postgres.js';
import { LedgerService } from '../src/ledger/ledger.service.js';
import { WitnessingService } from '../src/ledger/witnessing.service.js';
import { cosignerVerifierKey } from '../src/ledger/cosignature.js';
import type { ServiceKeys } from '../src/service-keys.js';
import { startWitness } from '../src/witness/witness.server.js';
import { nowMs, percentiles, sleep, type Percentiles } from './stats.js';

/** What this phase reports. */
export interface WitnessFigures {
  cosignedMs: Percentiles;
  mine: { treeSize: number; partyEntries: number; pageSize: number; ms: Percentiles };
}

/** Runs both measurements; `origin` and `keys` are the bench ledger's. */
export async function measureWitnessing(ds: DataSource, keys: ServiceKeys, origin: string, opts: { samples: number; mineSamples: number }, log: (m: string) => void): Promise<WitnessFigures> {
  const ledger = new LedgerService(ds, { origin, key: keys.ledger, witnessCount: 2 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-bench-witness-'));
  const wkeys = [generateKeyPair().secretKey, generateKeyPair().secretKey];
  const witnesses = await Promise.all(wkeys.map(async (k, i) => startWitness({ name: `w${i + 1}.bench/witness`, secretKey: k, logKeys: [ledger.verifierKey()], stateDir: path.join(dir, `w${i}`), port: await freePort() })));
  const targets = witnesses.map((w, i) => ({ url: w.url, vkey: cosignerVerifierKey(`w${i + 1}.bench/witness`, publicKeyOf(wkeys[i])) }));
  const logger = pino({ level: 'silent' });
  const loop = ledger.start(logger);
  const witnessing = new WitnessingService(ds, ledger, targets).start(logger);
  const ms: number[] = [];
  try {
    // Warm-up: the witnesses' first checkpoint (old 0) for the grown log.
    await ledger.flush();
    for (let s = 0; s < opts.samples + 3; s++) {
      await sleep(20);
      const t0 = nowMs();
      await ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data) VALUES ('job.authorized', 'system', jsonb_build_object('job', $1::text), '{}'::jsonb)`, [randomUUID()]);
      const deadline = t0 + 30_000;
      for (;;) {
        const rows = (await ds.query(
          `SELECT 1 FROM ledger_checkpoints c WHERE c.tree_size > (SELECT max(idx) FROM ledger_entries)
             AND NOT EXISTS (SELECT 1 FROM ledger_queue)
             AND (SELECT count(*) FROM ledger_cosignatures s WHERE s.tree_size = c.tree_size) >= 2 LIMIT 1`,
        )) as unknown[];
        if (rows.length > 0) break;
        if (nowMs() > deadline) throw new Error('no checkpoint with 2 cosignatures within 30 s');
        await sleep(5);
      }
      if (s >= 3) ms.push(nowMs() - t0);
    }
  } finally {
    await witnessing.stop();
    await loop.stop();
    for (const w of witnesses) await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const cosignedMs = percentiles(ms);
  log(`entry -> checkpoint with 2 cosignatures: p50 ${cosignedMs.p50} ms, p99 ${cosignedMs.p99} ms`);

  // A party named by every 1000th entry of the whole log (the index is what the sequencer would have written).
  const treeSize = (await ledger.latestCheckpoint()).size;
  const party = randomUUID();
  await ds.query('INSERT INTO ledger_party_index (participant_id, idx) SELECT $1::uuid, g FROM generate_series(0, $2::bigint - 1, 1000) g', [party, treeSize]);
  const partyEntries = Math.ceil(treeSize / 1000);
  const pageSize = 100;
  const mineMs: number[] = [];
  for (let s = 0; s < opts.mineSamples + 10; s++) {
    const start = Math.floor(Math.random() * treeSize);
    const t0 = nowMs();
    const view = await ledger.entriesOfParty(party, start, pageSize);
    if (s >= 10) mineMs.push(nowMs() - t0);
    if (view.entries.length === 0 && start < treeSize - 1000) throw new Error('party view returned nothing');
  }
  const mine = { treeSize, partyEntries, pageSize, ms: percentiles(mineMs) };
  log(`/ledger/mine (direct, page ${pageSize}) at ${treeSize}: p50 ${mine.ms.p50} ms, p99 ${mine.ms.p99} ms`);
  return { cosignedMs, mine };
}
