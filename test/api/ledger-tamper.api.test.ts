/**
 * An insider with superuser rights tampers with ledger_entries (the
 * append-only trigger disabled); `tds verify` against the live service, and
 * on an exported bundle, must fail and name the first bad index every time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, type Actor } from '../helpers/actors.js';
import { auditorCli, closeAuditorCli, runCli, type AuditorCli } from '../helpers/auditor-cli.js';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { chainHash } from '../../src/ledger/chain.js';
import { verifierKey } from '../../src/ledger/checkpoint.js';
import { canonicalEntryText, leafHashOfText, type LedgerEntry } from '../../src/ledger/ledger-entry.js';

let ctx: TestContext;
let live: AuditorCli;
let service: string;
let dir: string;
let keyFile: string;
let logKey: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const auditor: Actor = await makeParticipant(ctx, ['auditor']);
  await ctx.ds.query(
    `INSERT INTO ledger_queue (kind, actor, subjects, data)
     SELECT 'contract.signed', 'p_' || (g % 13), jsonb_build_object('contract', 'c_' || g), jsonb_build_object('n', g, 'note', 'generated')
     FROM generate_series(1, 2500) g`,
  );
  await ctx.services.ledger.flush();
  live = await auditorCli(ctx, auditor, 'tds-verify-');
  ({ service, dir, keyFile, logKey } = live);
});
afterAll(async () => {
  await closeAuditorCli(live);
  await ctx.close();
});

const runVerify = ['verify'];
const runLedgerExport = ['ledger', 'export'];

/** Run `tds <command> args` with no environment defaults, capturing its output (progress lines with err). */
const cli = (command: string[], args: string[]) => runCli([...command, ...args], { progress: true });

let runs = 0;
/** tds verify against the live service, with a fresh state file unless one is given. */
const verify = (state = path.join(dir, `state-${++runs}.json`)) => cli(runVerify, ['--service', service, '--key', keyFile, '--log-key', logKey, '--state', state]);

async function entryAt(idx: number): Promise<{ entry: string; chain: Uint8Array }> {
  const [row] = (await ctx.ds.query('SELECT entry, chain_hash FROM ledger_entries WHERE idx = $1', [idx])) as Array<{ entry: string; chain_hash: Uint8Array }>;
  return { entry: row.entry, chain: new Uint8Array(row.chain_hash) };
}

/** Runs `change` as the insider (trigger off), checks what verify says, then restores the ledger exactly. */
async function asInsider(change: (q: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>, expected: { index: number | 'unknown'; problem: RegExp }): Promise<void> {
  const run = async (fn: (q: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>): Promise<void> =>
    ctx.ds.transaction(async (tx) => {
      await tx.query('ALTER TABLE ledger_entries DISABLE TRIGGER USER');
      await fn((sql, params) => tx.query(sql, params));
      await tx.query('ALTER TABLE ledger_entries ENABLE TRIGGER USER');
    });
  await run(async (q) => {
    await q('CREATE TABLE ledger_entries_backup AS SELECT * FROM ledger_entries');
    await change(q);
  });
  try {
    const res = await verify();
    expect(res.code).toBe(1);
    expect(res.out).toMatch(expected.problem);
    expect(res.out).toContain(`first bad index: ${expected.index}`);
  } finally {
    await run(async (q) => {
      await q('DELETE FROM ledger_entries');
      await q('INSERT INTO ledger_entries SELECT * FROM ledger_entries_backup');
      await q('DROP TABLE ledger_entries_backup');
    });
  }
}

describe('tds verify against the live service', () => {
  it('passes on an untampered ledger, then checks consistency from the saved checkpoint', async () => {
    const state = path.join(dir, 'state-kept.json');
    const first = await verify(state);
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/^OK: \d+ entries verified/) });
    expect(first.err).toMatch(/100%/);
    const saved = JSON.parse(fs.readFileSync(state, 'utf8')) as { size: number; rootHash: string };
    expect(saved.size).toBe(await ctx.services.ledger.treeSize());
    await ctx.ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data) SELECT 'job.completed', 'p_1', '{}', jsonb_build_object('n', g) FROM generate_series(1, 10) g`);
    await ctx.services.ledger.flush();
    const second = await verify(state);
    expect(second.code).toBe(0);
    expect(first.out).toMatch(/no earlier checkpoint to compare with/);
    expect(second.out).toContain(`checked: consistency with the checkpoint of size ${saved.size} verified before`);
    expect((JSON.parse(fs.readFileSync(state, 'utf8')) as { size: number }).size).toBe(saved.size + 10);
  });

  it('names the entry whose bytes changed', async () => {
    await asInsider(async (q) => {
      const { entry } = await entryAt(17);
      await q('UPDATE ledger_entries SET entry = $1 WHERE idx = 17', [entry.replace('"note":"generated"', '"note":"generatee"').replace(/"actor":"([^"]*)"/, '"actor":"$1x"')]);
    }, { index: 17, problem: /entry 17: leaf hash mismatch/ });
  });

  it('names an entry that is no longer JSON', async () => {
    await asInsider(async (q) => {
      await q(`UPDATE ledger_entries SET entry = left(entry, -1) || ']' WHERE idx = 17`);
    }, { index: 17, problem: /entry 17: not a JSON object/ });
  });

  it('names a deleted entry', async () => {
    await asInsider(async (q) => {
      await q('DELETE FROM ledger_entries WHERE idx = 17');
    }, { index: 17, problem: /entry 17: missing/ });
  });

  it('names the first of two swapped entries', async () => {
    await asInsider(async (q) => {
      await q(`UPDATE ledger_entries e SET entry = o.entry, leaf_hash = o.leaf_hash, chain_hash = o.chain_hash, kind = o.kind, subjects = o.subjects
               FROM ledger_entries_backup o WHERE (e.idx, o.idx) IN ((17, 420), (420, 17))`);
    }, { index: 17, problem: /entry 17: index field says 420/ });
  });

  it('names an inserted entry, even with hashes computed the way the service would', async () => {
    await asInsider(async (q) => {
      // Shift the tail up by one (in two steps: the primary key is checked row by row).
      await q('UPDATE ledger_entries SET idx = idx + 1000000 WHERE idx >= 17');
      await q('UPDATE ledger_entries SET idx = idx - 999999 WHERE idx >= 1000000');
      const forged: LedgerEntry = { v: 1, index: 17, kind: 'job.authorized', at: new Date().toISOString(), actor: 'p_mallory', subjects: { job: 'j_forged' }, data: { purpose: 'DUO:0000042' } };
      const text = canonicalEntryText(forged);
      const leaf = leafHashOfText(text);
      const chain = chainHash((await entryAt(16)).chain, leaf);
      await q('INSERT INTO ledger_entries (idx, kind, entry, leaf_hash, chain_hash, subjects) VALUES (17, $1, $2, $3, $4, $5)', [forged.kind, text, leaf, chain, JSON.stringify(forged.subjects)]);
    }, { index: 17, problem: /entry 17: inserted/ });
  });

  /** As the insider: entry `at` altered by `edit`, its leaf hash recomputed, and the chain hashes from it up to `through` (inclusive; default the whole tail). */
  const rehash = (at: number, edit: (e: LedgerEntry) => void, through = Number.MAX_SAFE_INTEGER) => async (q: (sql: string, params?: unknown[]) => Promise<unknown>) => {
    const rows = (await q('SELECT idx::int AS i, entry FROM ledger_entries WHERE idx >= $1 AND idx <= $2 ORDER BY idx', [at, through])) as Array<{ i: number; entry: string }>;
    let chain: Uint8Array = at === 0 ? new Uint8Array(32) : (await entryAt(at - 1)).chain;
    const texts: string[] = [];
    const leaves: Buffer[] = [];
    const chains: Buffer[] = [];
    for (const row of rows) {
      const entry = JSON.parse(row.entry) as LedgerEntry;
      if (row.i === at) edit(entry);
      const text = canonicalEntryText(entry);
      const leaf = leafHashOfText(text);
      chain = chainHash(chain, leaf);
      texts.push(text);
      leaves.push(Buffer.from(leaf));
      chains.push(Buffer.from(chain));
    }
    // One statement for the whole tail: row by row it is thousands of round trips.
    await q(`UPDATE ledger_entries e SET entry = t.entry, leaf_hash = t.leaf, chain_hash = t.chain
               FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bytea[]) AS t(idx, entry, leaf, chain) WHERE e.idx = t.idx`,
    [rows.map((r) => r.i), texts, leaves, chains]);
  };

  it('names the entry whose bytes and leaf hash changed (the chain shows it)', async () => {
    await asInsider(async (q) => {
      const { entry } = await entryAt(17);
      const text = canonicalEntryText({ ...(JSON.parse(entry) as LedgerEntry), actor: 'p_mallory' });
      await q('UPDATE ledger_entries SET entry = $1, leaf_hash = $2 WHERE idx = 17', [text, leafHashOfText(text)]);
    }, { index: 17, problem: /entry 17: chain hash mismatch/ });
  });

  it('names the entry whose stored chain hash alone changed', async () => {
    await asInsider(async (q) => {
      await q('UPDATE ledger_entries SET chain_hash = $1 WHERE idx = 17', [new Uint8Array(32).fill(7)]);
    }, { index: 17, problem: /entry 17: chain hash mismatch/ });
  });

  it('names the altered entry, not the next one, when its own leaf and chain hash were recomputed', async () => {
    await asInsider(rehash(17, (e) => (e.actor = 'p_mallory'), 17), { index: 17, problem: /entry 17: its bytes .* differ from the leaf the checkpoint of size \d+ commits to .*entry 18: chain hash mismatch/ });
  });

  it('names the altered entry when the chain was recomputed over part of the tail', async () => {
    await asInsider(rehash(1500, (e) => (e.data = { ...e.data, n: -1 }), 2000), { index: 1500, problem: /entry 1500: its bytes .* commit.*entry 2001: chain hash mismatch/ });
  });

  it.each([0, 17, 1024, 2047])('names entry %i in a rewritten tail whose hashes were all recomputed (only the signed root disagrees)', async (i) => {
    await asInsider(rehash(i, (e) => (e.actor = 'p_mallory')), { index: i, problem: new RegExp(`entry ${i}: its bytes .* commits to .*root does not match the signed checkpoint`) });
  }, 180_000);

  it('passes again once the ledger is restored', async () => {
    expect((await verify()).code).toBe(0);
  });

  it('refuses a wrong command line with exit code 2', async () => {
    expect((await cli(runVerify, [])).code).toBe(2);
    expect((await cli(runVerify, ['--service', service, '--key', keyFile])).code).toBe(2);
    expect((await cli(runVerify, ['--service', service, '--key', keyFile, '--log-key', logKey, '--frobnicate', '1'])).code).toBe(2);
    expect((await cli(runVerify, ['--service', service, '--key', path.join(dir, 'missing.json'), '--log-key', logKey])).code).toBe(2);
    expect((await cli(runLedgerExport, ['--service', service])).code).toBe(2);
  });

  it('fails with exit code 1 when the log key is not the service\'s (exit 2 when it is not a well-formed key)', async () => {
    // Another key of the same name: well formed, but the checkpoint is not signed with it.
    const other = verifierKey(logKey.split('+')[0]!, publicKeyOf(generateKeyPair().secretKey));
    const res = await cli(runVerify, ['--service', service, '--key', keyFile, '--log-key', other, '--state', path.join(dir, 'other.json')]);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/FAILED: checkpoint:/);
    // Another key under the service key's id: its key id does not match, a malformed key, so a bad command line.
    const mismatched = logKey.replace(/\+[^+]+$/, `+${Buffer.from([1, ...new Uint8Array(32).fill(7)]).toString('base64')}`);
    expect((await cli(runVerify, ['--service', service, '--key', keyFile, '--log-key', mismatched, '--state', path.join(dir, 'other.json')])).code).toBe(2);
    // A wrong key says nothing about the entries: no misleading "first bad index".
    expect(res.out).not.toMatch(/first bad index/);
  });
});

describe('tds ledger export and offline verification', () => {
  it('exports a bundle that verifies offline, and names the first bad entry once it is edited', async () => {
    const bundle = path.join(dir, 'bundle');
    const exported = await cli(runLedgerExport, ['--service', service, '--key', keyFile, '--out', bundle]);
    expect(exported.code).toBe(0);
    // The bundle carries no key from the audited service: the auditor verifies with the one it pinned.
    expect(fs.readdirSync(bundle).sort()).toEqual(['checkpoint.txt', 'entries.ndjson']);
    const pinned = path.join(dir, 'pinned-log-key.txt');
    fs.writeFileSync(pinned, `${logKey}\n`);
    const offline = () => cli(runVerify, ['--bundle', bundle, '--log-key', `@${pinned}`]);
    const ok = await offline();
    expect(ok.code).toBe(0);
    // Without --state an offline check records nothing, and says so.
    expect(ok.out).toMatch(/not compared with an earlier checkpoint: nothing is recorded without --state/);
    const file = path.join(bundle, 'entries.ndjson');
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    lines[1234] = lines[1234].replace('"note":"generated"', '"note":"edited!!!"');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const res = await offline();
    expect(res.code).toBe(1);
    expect(res.out).toContain('first bad index: 1234');
  });
});
