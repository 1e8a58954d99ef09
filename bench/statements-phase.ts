/**
 * Statement figures of `npm run bench`: the time to issue a provider's
 * statement over N releases and the time for the party to verify it (fetch
 * its proven entries as GET /ledger/mine serves them, then the pure check).
 * Runs in its own database on the bench's server: the N job.authorized
 * entries (and their contracts' activations) are inserted straight into the
 * ledger queue in one statement, then integrated by the real sequencer, so
 * hashes, nodes and the checkpoint are real and nothing else is measured.
 */
import { randomUUID } from 'node:crypto';
import { createDataSource, openDatabase } from '../src/db/data-source.js';
import { entities } from '../src/services.js';
import { migrations } from '../migrations/index.js';
import type { ServiceKeys } from '../src/service-keys.js';
import { LedgerService } from '../src/ledger/ledger.service.js';
import { StatementsService } from '../src/statements/statements.service.js';
import { verifyStatement, type PartyPage } from '../src/statements/verify-statement.js';
import { statementCurrencies } from '../src/money/currencies.js';
import { connectClient, withDatabase } from './database.js';
import { nowMs, round } from './stats.js';

/** What the phase reports. */
export interface StatementFigures {
  releases: number;
  contracts: number;
  /** Queue insert + sequencing of the synthetic ledger (not a statement figure; for context). */
  ledgerFillMs: number;
  /** POST /statements' work: read the party's entries below the checkpoint, build, sign, store, queue statement.issued. */
  issueMs: number;
  /** Reading the party's pages with inclusion proofs (what GET /ledger/mine serves), in process. */
  evidenceMs: number;
  /** The party's pure check: signature, leaf hashes, inclusion proofs, numbering, lines and totals. */
  verifyMs: number;
  entriesChecked: number;
  ok: boolean;
  total: string;
}

const CONTRACTS = 10;
const ORIGIN = 'bench.tds.local/statements';

/** Runs the phase with `releases` job.authorized entries for one provider. */
export async function measureStatements(benchDbUrl: string, keys: ServiceKeys, releases: number, log: (m: string) => void): Promise<StatementFigures> {
  const name = `${new URL(benchDbUrl).pathname.slice(1)}_st`;
  const admin = await connectClient(withDatabase(benchDbUrl, 'postgres'));
  await admin.query(`CREATE DATABASE ${name}`);
  const ds = await openDatabase(createDataSource({ url: withDatabase(benchDbUrl, name), entities, migrations, poolSize: 4, applicationName: 'tds-bench-statements' }));
  try {
    const ledger = new LedgerService(ds, { origin: ORIGIN, key: keys.ledger });
    const statements = new StatementsService(ds, ledger, keys.ledger);
    const provider = randomUUID();
    const consumer = randomUUID();
    await ds.query(`INSERT INTO participants (id, name, roles, status) VALUES ($1, 'bench provider', '{provider}', 'active'), ($2, 'bench consumer', '{consumer}', 'active')`, [provider, consumer]);
    const contracts = Array.from({ length: CONTRACTS }, () => ({ id: randomUUID(), dataset: randomUUID() }));
    const t0 = nowMs();
    for (const [i, c] of contracts.entries()) {
      const price = { perInvocation: i % 2 === 0 ? '19.99' : '0.10', currency: 'EUR' };
      await ds.query(`INSERT INTO ledger_queue (kind, actor, subjects, data) VALUES ('contract.activated', $1, $2, $3)`, [provider, JSON.stringify({ contract: c.id, dataset: c.dataset, provider, consumer }), JSON.stringify({ digest: '0'.repeat(64), price })]);
    }
    // One statement: release n goes to contract n mod 10 as its invocation n div 10 + 1 (contiguous per contract).
    await ds.query(
      `INSERT INTO ledger_queue (kind, actor, subjects, data)
       SELECT 'job.authorized', $1,
              jsonb_build_object('job', gen_random_uuid(), 'contract', (c.ids)[1 + n % $4], 'dataset', (c.datasets)[1 + n % $4], 'provider', $2::text, 'consumer', $1::text),
              jsonb_build_object('purpose', 'DUO:0000006', 'sha256', repeat('a', 64), 'invocation', n / $4 + 1, 'remaining', 1000000)
         FROM generate_series(0, $3 - 1) n, (SELECT $5::text[] AS ids, $6::text[] AS datasets) c
        ORDER BY n`,
      [consumer, provider, releases, CONTRACTS, contracts.map((c) => c.id), contracts.map((c) => c.dataset)],
    );
    await ledger.flush();
    // A bulk load leaves no planner statistics; autovacuum would gather them soon in a real deployment.
    await ds.query('ANALYZE');
    const ledgerFillMs = round(nowMs() - t0, 0);
    log(`statements: ${releases} releases sequenced in ${ledgerFillMs} ms`);

    const principal = { participantId: provider, roles: ['provider'], kid: 'bench' };
    const t1 = nowMs();
    const signed = await statements.issue(principal, { party: provider, from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' });
    const issueMs = round(nowMs() - t1, 0);

    const t2 = nowMs();
    const pages: PartyPage[] = [];
    for (let start = 0; start < signed.statement.treeSize;) {
      const page = await ledger.entriesOfParty(provider, start, 1000);
      pages.push(page);
      if (page.nextStart <= start) break;
      start = page.nextStart;
    }
    const consistency: Record<number, string[]> = {};
    for (const size of new Set(pages.map((p) => p.treeSize))) if (size > signed.statement.treeSize) consistency[size] = (await ledger.consistencyProof(signed.statement.treeSize, size)).proof;
    const evidenceMs = round(nowMs() - t2, 0);

    const t3 = nowMs();
    const result = verifyStatement(statementCurrencies(), { signed, logKey: ledger.verifierKey(), partyId: provider, pages, consistency });
    const verifyMs = round(nowMs() - t3, 0);
    if (!result.ok) throw new Error(`statement did not verify: ${result.problem}`);
    const total = signed.statement.totals.map((t) => `${t.amount} ${t.currency}`).join(', ');
    log(`statements: issue ${issueMs} ms, evidence ${evidenceMs} ms, verify ${verifyMs} ms (${total})`);
    return { releases, contracts: CONTRACTS, ledgerFillMs, issueMs, evidenceMs, verifyMs, entriesChecked: result.entriesChecked, ok: result.ok, total };
  } finally {
    await ds.destroy().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}
