/**
 * GET /v1/ledger/mine: each party sees exactly the entries naming it (actor or
 * subject value), each proven against the signed checkpoint it is served
 * with; pages by ledger index; and the read is an index range scan, fed by
 * the sequencer (and, for entries older than the index, by the migration).
 */
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import type { Signer } from '../../src/client/request-token.js';
import { activeContract } from '../helpers/scenario.js';
import { fromBase64 } from '../../src/crypto/sha256.js';
import { openNote, parseVerifierKey } from '../../src/ledger/checkpoint.js';
import { leafHashOfText, canonicalEntryText, type LedgerEntry } from '../../src/ledger/ledger-entry.js';
import { verifyInclusion } from '../../src/ledger/merkle.js';
import type { PartyView } from '../../src/ledger/ledger.service.js';
import { CreateLedgerPartyIndex1765030000000 } from '../../migrations/1765030000000-CreateLedgerPartyIndex.js';

let ctx: TestContext;
let hospitalA: Actor;
let hospitalB: Actor;
let instituteX: Actor;
let instituteY: Actor;
let auditor: Actor;

async function release(consumer: Actor, contractId: string): Promise<void> {
  const res = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
  if (res.status !== 201) throw new Error(`job failed: ${res.status} ${JSON.stringify(res.body)}`);
}

beforeAll(async () => {
  ctx = await createTestContext();
  [hospitalA, hospitalB, instituteX, instituteY, auditor] = await Promise.all([
    makeParticipant(ctx, ['provider']),
    makeParticipant(ctx, ['provider']),
    makeParticipant(ctx, ['consumer']),
    makeParticipant(ctx, ['consumer']),
    makeParticipant(ctx, ['auditor']),
  ]);
  const ax = await activeContract(ctx, hospitalA, instituteX);
  const by = await activeContract(ctx, hospitalB, instituteY);
  const ay = await activeContract(ctx, hospitalA, instituteY);
  for (let i = 0; i < 3; i++) await release(instituteX, ax);
  await release(instituteY, by);
  await release(instituteY, ay);
  await ctx.services.ledger.flush();
});
afterAll(() => ctx.close());

/** Every entry of the ledger, as the auditor reads it. */
async function allEntries(): Promise<Array<{ index: number; entry: LedgerEntry }>> {
  const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/entries?limit=1000');
  expect(res.status).toBe(200);
  return res.body.entries;
}

const names = (e: LedgerEntry, id: string): boolean => e.actor === id || Object.values(e.subjects).includes(id);

async function mine(who: Signer, query = ''): Promise<PartyView> {
  const res = await signed(ctx.app, who, 'get', `/v1/ledger/mine${query}`);
  expect(res.status).toBe(200);
  return res.body as PartyView;
}

/** Checks the view's checkpoint with the log key and every entry's bytes and inclusion proof against it. */
function expectProven(view: PartyView): void {
  const key = parseVerifierKey(ctx.services.ledger.verifierKey());
  const { checkpoint } = openNote(view.checkpoint, key, ctx.config.ledgerOrigin);
  expect(checkpoint.size).toBe(view.treeSize);
  for (const e of view.entries) {
    const leaf = leafHashOfText(canonicalEntryText(e.entry as LedgerEntry));
    expect(Buffer.from(leaf).toString('base64')).toBe(e.leafHash);
    expect(() => verifyInclusion(e.index, view.treeSize, leaf, e.proof.map(fromBase64), checkpoint.rootHash)).not.toThrow();
  }
}

describe('GET /v1/ledger/mine', () => {
  it('gives each party exactly the entries naming it, in index order, each proven', async () => {
    const all = await allEntries();
    for (const who of [hospitalA, hospitalB, instituteX, instituteY, auditor, ctx.operator]) {
      const view = await mine(who, '?limit=1000');
      const expected = all.filter((e) => names(e.entry, who.iss)).map((e) => e.index);
      expect(expected.length).toBeGreaterThan(0);
      expect(view.entries.map((e) => e.index)).toEqual(expected);
      expect(view.treeSize).toBe(all.length);
      expectProven(view);
    }
    // The scenario's own shape: hospital A saw 4 releases of its datasets, hospital B 1, and none of the other's.
    const kinds = async (who: Actor) => (await mine(who, '?limit=1000')).entries.filter((e) => (e.entry as LedgerEntry).kind === 'job.authorized');
    expect((await kinds(hospitalA)).length).toBe(4);
    expect((await kinds(hospitalB)).length).toBe(1);
    expect((await kinds(instituteX)).every((e) => (e.entry as LedgerEntry).subjects.consumer === instituteX.id)).toBe(true);
  });

  it('pages by ledger index: start and limit, nextStart continuing without gaps or repeats', async () => {
    const whole = (await mine(hospitalA, '?limit=1000')).entries.map((e) => e.index);
    expect(whole.length).toBeGreaterThan(5);
    const paged: number[] = [];
    let start = 0;
    for (let round = 0; round < 100; round++) {
      const page = await mine(hospitalA, `?start=${start}&limit=2`);
      expectProven(page);
      paged.push(...page.entries.map((e) => e.index));
      expect(page.nextStart).toBeGreaterThanOrEqual(start);
      if (page.entries.length > 0) expect(page.nextStart).toBeGreaterThan(page.entries[page.entries.length - 1].index);
      start = page.nextStart;
      if (page.entries.length < 2) break;
    }
    expect(paged).toEqual(whole);
    expect(start).toBe((await mine(hospitalA)).treeSize);
    const from = whole[3];
    expect((await mine(hospitalA, `?start=${from}`)).entries.map((e) => e.index)).toEqual(whole.slice(3));
    const past = await mine(hospitalA, '?start=999999');
    expect({ entries: past.entries, nextStart: past.nextStart }).toEqual({ entries: [], nextStart: 999999 });
  });

  it('caps a limit above 1000 and refuses malformed queries with VALIDATION_FAILED', async () => {
    expect((await signed(ctx.app, hospitalA, 'get', '/v1/ledger/mine?limit=5000')).status).toBe(200);
    for (const q of ['?start=-1', '?limit=0', '?start=abc', '?other=1']) {
      const res = await signed(ctx.app, hospitalA, 'get', `/v1/ledger/mine${q}`);
      expect({ q, status: res.status, code: res.body.code }).toEqual({ q, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('reads the party index with an index scan, not a scan of the entries', async () => {
    // On a small test table the planner may rightly prefer a sequential scan (it depends on when
    // autovacuum last analysed it), so sequential scans are penalised: without a usable index the
    // plan still scans the entries and this test fails.
    const runner = ctx.ds.createQueryRunner();
    let plan: Array<{ 'QUERY PLAN': string }>;
    try {
      await runner.startTransaction();
      await runner.query('SET LOCAL enable_seqscan = off');
      plan = (await runner.query(
        `EXPLAIN SELECT e.idx FROM ledger_party_index p JOIN ledger_entries e ON e.idx = p.idx
         WHERE p.participant_id = $1 AND p.idx >= 0 AND p.idx < 1000000 ORDER BY p.idx LIMIT 100`,
        [hospitalA.id],
      )) as Array<{ 'QUERY PLAN': string }>;
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index (Only )?Scan using ledger_party_index_pkey/);
    expect(text).not.toMatch(/Seq Scan on ledger_entries/);
  });

  it('the migration indexes entries written before it exactly as the sequencer does', async () => {
    const read = async () => (await ctx.ds.query('SELECT participant_id::text AS p, idx::text AS i FROM ledger_party_index ORDER BY 1, 2')) as unknown[];
    const bySequencer = await read();
    expect(bySequencer.length).toBeGreaterThan(20);
    const runner = ctx.ds.createQueryRunner();
    try {
      await runner.query('DROP TABLE ledger_party_index');
      await new CreateLedgerPartyIndex1765030000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await read()).toEqual(bySequencer);
  });

  it('refuses to change the index (append-only like the ledger)', async () => {
    await expect(ctx.ds.query('DELETE FROM ledger_party_index')).rejects.toThrow(/append-only/);
    await expect(ctx.ds.query('UPDATE ledger_party_index SET idx = idx + 1')).rejects.toThrow(/append-only/);
  });
});
