import request from 'supertest';
import { pino } from 'pino';
import { createTestContext, countRows, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { createDataSource } from '../../src/db/data-source.js';
import { entities } from '../../src/services.js';
import { migrations } from '../../migrations/index.js';
import { fromBase64, toBase64 } from '../../src/crypto/sha256.js';
import { verifyChain } from '../../src/ledger/chain.js';
import { openNote, parseVerifierKey, verifierKey } from '../../src/ledger/checkpoint.js';
import { rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { LedgerService, type EntryView } from '../../src/ledger/ledger.service.js';
import { verifyLog } from '../../src/ledger/verify-log.js';

let ctx: TestContext;
let ledger: LedgerService;
let auditor: Actor;
let consumer: Actor;

beforeAll(async () => {
  ctx = await createTestContext();
  ledger = ctx.services.ledger;
  auditor = await makeParticipant(ctx, ['auditor']);
  consumer = await makeParticipant(ctx, ['consumer']);
  await ledger.flush();
});
afterAll(() => ctx.close());

/** Queue n synthetic events straight into ledger_queue, as appendEvent would from n transactions. */
async function queueGenerated(n: number, tag = 'generated'): Promise<void> {
  await ctx.ds.query(
    `INSERT INTO ledger_queue (kind, actor, subjects, data)
     SELECT 'job.authorized', 'p_' || (g % 97), jsonb_build_object('job', 'j_' || g, 'contract', 'c_' || (g % 31)), jsonb_build_object('n', g, 'tag', $2::text)
     FROM generate_series(1, $1::int) g`,
    [n, tag],
  );
}

async function allEntries(): Promise<EntryView[]> {
  const out: EntryView[] = [];
  for (;;) {
    const res = await signed(ctx.app, auditor, 'get', `/v1/ledger/entries?start=${out.length}&limit=1000`);
    expect(res.status).toBe(200);
    if (res.body.entries.length === 0) return out;
    out.push(...(res.body.entries as EntryView[]));
  }
}

async function checkpointNote(): Promise<string> {
  const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/checkpoint');
  expect(res.status).toBe(200);
  return res.text;
}

async function expectValidation(res: request.Response): Promise<void> {
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

describe('sequencing', () => {
  it('integrates the events queued by registrations into chained, signed entries', async () => {
    const carol = await makeParticipant(ctx, ['provider']);
    expect(await countRows(ctx.ds, 'ledger_queue')).toBeGreaterThan(0);
    expect(await ledger.entriesForSubject('participant', carol.id)).toEqual([]);
    await ledger.flush();
    expect(await countRows(ctx.ds, 'ledger_queue')).toBe(0);
    const mine = await ledger.entriesForSubject('participant', carol.id);
    expect(mine.map((e) => (e.entry as { kind: string }).kind)).toEqual(['participant.registered', 'participant.approved']);
    const entries = await allEntries();
    const result = verifyLog({ entries, checkpointNote: await checkpointNote(), verifierKey: ledger.verifierKey() });
    expect(result).toMatchObject({ ok: true, size: entries.length });
  });

  it('agrees with an independent recomputation over 10,000 generated entries', async () => {
    await queueGenerated(10_000);
    await ledger.flush();
    const entries = await allEntries();
    expect(entries.length).toBeGreaterThan(10_000);
    const leaves = entries.map((e) => fromBase64(e.leafHash));
    expect(verifyChain(leaves, entries.map((e) => fromBase64(e.chainHash)))).toBe(-1);
    const cp = await ledger.latestCheckpoint();
    expect(cp.size).toBe(entries.length);
    expect(toBase64(rootFromLeafHashes(leaves))).toBe(toBase64(cp.rootHash));
    expect(verifyLog({ entries, checkpointNote: cp.note, verifierKey: ledger.verifierKey() })).toEqual({ ok: true, size: entries.length, rootHash: toBase64(cp.rootHash), entries: entries.length });
  });
});

describe('a sequencing step that fails', () => {
  it('writes nothing and leaves the queue for the next attempt', async () => {
    const before = { entries: await countRows(ctx.ds, 'ledger_entries'), nodes: await countRows(ctx.ds, 'ledger_nodes') };
    await queueGenerated(1100, 'before poison');
    // 1e400 is valid jsonb but no JSON number JavaScript can hold: the entry cannot be encoded.
    await ctx.ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data) VALUES ('job.denied', 'system', '{}', jsonb_build_object('n', 1e400::numeric))`);
    await queueGenerated(300, 'after poison');
    await expect(ledger.integratePending()).rejects.toThrow(/non-finite|not a JSON number/);
    expect({ entries: await countRows(ctx.ds, 'ledger_entries'), nodes: await countRows(ctx.ds, 'ledger_nodes'), queue: await countRows(ctx.ds, 'ledger_queue') }).toEqual({ ...before, queue: 1401 });
    await ctx.ds.query(`DELETE FROM ledger_queue WHERE kind = 'job.denied' AND actor = 'system'`);
    await ledger.flush();
    expect(await countRows(ctx.ds, 'ledger_entries')).toBe(before.entries + 1400);
    const entries = await allEntries();
    expect(verifyLog({ entries, checkpointNote: await checkpointNote(), verifierKey: ledger.verifierKey() })).toMatchObject({ ok: true, size: entries.length });
  });
});

describe('auditor API', () => {
  const open = ['/v1/ledger/checkpoint', '/v1/ledger/key', '/v1/ledger/mine', '/v1/ledger/proofs/inclusion?index=0', '/v1/ledger/proofs/consistency?from=1'];

  it('serves entries to auditors and the operator only: other roles 403, strangers 401', async () => {
    const p = '/v1/ledger/entries';
    expect((await signed(ctx.app, auditor, 'get', p)).status).toBe(200);
    expect((await signed(ctx.app, ctx.operator, 'get', p)).status).toBe(200);
    const refused = await signed(ctx.app, consumer, 'get', p);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'ROLE_REQUIRED' });
    expect((await request(ctx.app).get(p)).status).toBe(401);
  });

  it('serves checkpoint, key, proofs and the party view to every active participant, nobody else', async () => {
    const provider = await makeParticipant(ctx, ['provider']);
    const suspended = await makeParticipant(ctx, ['consumer']);
    expect((await signed(ctx.app, ctx.operator, 'post', `/v1/participants/${suspended.id}/suspend`)).status).toBe(200);
    await ledger.flush();
    for (const p of open) {
      for (const who of [auditor, ctx.operator, consumer, provider]) expect({ p, status: (await signed(ctx.app, who, 'get', p)).status }).toEqual({ p, status: 200 });
      const refused = await signed(ctx.app, suspended, 'get', p);
      expect({ p, status: refused.status, code: refused.body.code }).toEqual({ p, status: 401, code: 'PARTICIPANT_NOT_ACTIVE' });
      expect((await request(ctx.app).get(p)).status).toBe(401);
    }
  });

  it('serves the signed checkpoint and the verifier key as text', async () => {
    const cp = await signed(ctx.app, auditor, 'get', '/v1/ledger/checkpoint');
    expect(cp.headers['content-type']).toBe('text/plain; charset=utf-8');
    const key = await signed(ctx.app, auditor, 'get', '/v1/ledger/key');
    expect(key.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(key.text).toBe(verifierKey(ctx.config.ledgerOrigin, ctx.keys.ledger.publicKey));
    const { checkpoint } = openNote(cp.text, parseVerifierKey(key.text), ctx.config.ledgerOrigin);
    expect(checkpoint.size).toBe(await ledger.treeSize());
  });

  it('pages entries, capping a limit above 1000 and answering past the end with an empty page', async () => {
    const size = await ledger.treeSize();
    const big = await signed(ctx.app, auditor, 'get', '/v1/ledger/entries?start=5&limit=5000');
    expect(big.body.treeSize).toBe(size);
    expect(big.body.entries).toHaveLength(1000);
    expect(big.body.entries[0]).toEqual({ index: 5, entry: expect.objectContaining({ v: 1, index: 5 }), leafHash: expect.any(String), chainHash: expect.any(String) });
    const tail = await signed(ctx.app, auditor, 'get', `/v1/ledger/entries?start=${size - 3}&limit=10`);
    expect(tail.body.entries.map((e: EntryView) => e.index)).toEqual([size - 3, size - 2, size - 1]);
    expect((await signed(ctx.app, auditor, 'get', `/v1/ledger/entries?start=${size + 10}`)).body).toEqual({ treeSize: size, entries: [] });
  });

  it('refuses malformed queries and ranges the tree does not have with 400 VALIDATION_FAILED', async () => {
    const size = await ledger.treeSize();
    for (const q of [
      'entries?start=-1', 'entries?limit=0', 'entries?start=abc', 'entries?start=1.5', 'entries?since=3',
      'proofs/inclusion', 'proofs/inclusion?index=-1', `proofs/inclusion?index=${size}`, `proofs/inclusion?index=0&treeSize=${size + 1}`,
      'proofs/inclusion?index=5&treeSize=5', 'proofs/inclusion?index=0&treeSize=0', 'proofs/inclusion?index=0&foo=1',
      'proofs/consistency', 'proofs/consistency?from=0&to=5', 'proofs/consistency?from=6&to=5', `proofs/consistency?from=1&to=${size + 1}`,
      'proofs/consistency?from=x', 'proofs/consistency?from=1e30',
    ]) {
      await expectValidation(await signed(ctx.app, auditor, 'get', `/v1/ledger/${q}`));
    }
  });

  it('serves inclusion proofs that verify for many (index, tree size) pairs', async () => {
    const entries = await allEntries();
    const leaves = entries.map((e) => fromBase64(e.leafHash));
    const n = leaves.length;
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 100, 1023, 1024, 1025, 4097, n - 1, n];
    for (const size of sizes) {
      const root = rootFromLeafHashes(leaves.slice(0, size));
      for (const index of new Set([0, size - 1, Math.floor(size / 2), Math.floor(size * 0.37)])) {
        const res = await signed(ctx.app, auditor, 'get', `/v1/ledger/proofs/inclusion?index=${index}&treeSize=${size}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ index, treeSize: size, leafHash: entries[index].leafHash });
        verifyInclusion(index, size, leaves[index], (res.body.proof as string[]).map(fromBase64), root);
      }
    }
    // Without treeSize the proof is for the latest checkpoint.
    const cp = await ledger.latestCheckpoint();
    const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/proofs/inclusion?index=3');
    expect(res.body.treeSize).toBe(cp.size);
    verifyInclusion(3, cp.size, leaves[3], (res.body.proof as string[]).map(fromBase64), cp.rootHash);
  });

  it('serves consistency proofs that verify for many (from, to) pairs, empty when equal', async () => {
    const leaves = (await allEntries()).map((e) => fromBase64(e.leafHash));
    const n = leaves.length;
    const pairs: Array<[number, number]> = [[1, 1], [1, 2], [1, n], [2, 3], [3, 7], [4, 8], [5, 1024], [7, 1025], [1000, 4096], [1024, n], [n - 1, n], [n, n], [37, 9999]];
    for (const [from, to] of pairs) {
      const res = await signed(ctx.app, auditor, 'get', `/v1/ledger/proofs/consistency?from=${from}&to=${to}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ from, to });
      if (from === to) expect(res.body.proof).toEqual([]);
      verifyConsistency(from, to, (res.body.proof as string[]).map(fromBase64), rootFromLeafHashes(leaves.slice(0, from)), rootFromLeafHashes(leaves.slice(0, to)));
    }
  });
});

describe('the database', () => {
  it.each(['ledger_entries', 'ledger_nodes', 'ledger_checkpoints'])('refuses UPDATE, DELETE and TRUNCATE on %s', async (table) => {
    const column = table === 'ledger_entries' ? 'entry' : table === 'ledger_nodes' ? 'hash' : 'note';
    await expect(ctx.ds.query(`UPDATE ${table} SET ${column} = ${column}`)).rejects.toThrow(/append-only/);
    await expect(ctx.ds.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
    await expect(ctx.ds.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
    expect(await countRows(ctx.ds, table)).toBeGreaterThan(0);
  });
});

describe('background sequencer', () => {
  it('signs a checkpoint covering new events soon after they are queued', async () => {
    const loop = new LedgerService(ctx.ds, { origin: ctx.config.ledgerOrigin, key: ctx.keys.ledger }).start(pino({ level: 'silent' }));
    try {
      const expected = (await ledger.treeSize()) + 25;
      await queueGenerated(25, 'background');
      const deadline = Date.now() + 3000;
      let size = 0;
      while (Date.now() < deadline && size < expected) {
        await new Promise((r) => setTimeout(r, 50));
        size = (await ledger.latestCheckpoint()).size;
      }
      expect(size).toBe(expected);
    } finally {
      await loop.stop();
    }
  });
});

describe('several sequencers (processes) on one database', () => {
  it('never duplicate or skip an index', async () => {
    const ds2 = createDataSource({ url: ctx.databaseUrl, entities, migrations, poolSize: 4 });
    await ds2.initialize();
    try {
      const a = new LedgerService(ctx.ds, { origin: ctx.config.ledgerOrigin, key: ctx.keys.ledger });
      const b = new LedgerService(ds2, { origin: ctx.config.ledgerOrigin, key: ctx.keys.ledger });
      const before = await ledger.treeSize();
      let producing = true;
      const drain = async (svc: LedgerService): Promise<number> => {
        let total = 0;
        for (;;) {
          // Read before integrating: once production is over, an empty step means an empty queue.
          const last = !producing;
          const n = await svc.integratePending(97);
          total += n;
          if (n === 0 && last) return total;
          if (n === 0) await new Promise((r) => setTimeout(r, 5));
        }
      };
      const producer = (async () => {
        for (let i = 0; i < 20; i++) await queueGenerated(150, `burst ${i}`);
        producing = false;
      })();
      const [, na, nb] = await Promise.all([producer, drain(a), drain(b)]);
      expect(na + nb).toBe(3000);
      expect(na).toBeGreaterThan(0);
      expect(nb).toBeGreaterThan(0);
      const [row] = (await ctx.ds.query('SELECT count(*)::int AS n, max(idx)::int AS top, count(DISTINCT idx)::int AS d FROM ledger_entries')) as Array<{ n: number; top: number; d: number }>;
      expect(row).toEqual({ n: before + 3000, top: before + 2999, d: before + 3000 });
      await b.checkpoint();
      const entries = await allEntries();
      expect(verifyLog({ entries, checkpointNote: await checkpointNote(), verifierKey: ledger.verifierKey() })).toMatchObject({ ok: true, size: before + 3000 });
    } finally {
      await ds2.destroy();
    }
  });
});
