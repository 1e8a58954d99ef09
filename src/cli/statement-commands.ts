/**
 * `tds statement create|show|verify` and `tds settlement`: statements as a
 * table for people or CSV for accounting, and the party's own verification.
 * `verify` trusts only the pinned ledger key: it downloads the party's own
 * entries with inclusion proofs (GET /v1/ledger/mine), a consistency proof
 * from the statement's tree to each served checkpoint, and lets the pure
 * verifier (statements/verify-statement.ts) recompute everything.
 */
import fs from 'node:fs';
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import type { TdsClient } from '../client/tds-client.js';
import { statementCurrencies } from '../money/currencies.js';
import { verifyStatement, type PartyPage } from '../statements/verify-statement.js';
import type { ContractTerms, SignedStatement, Statement, StatementLine } from '../statements/statement-document.js';
import { UsageError, choiceOption, requireOption, stringOption, type CliIo, type CommandContext, type CommandSpec } from './cli-args.js';
import { requireLogKey } from './trust-options.js';

const csvCell = (v: string | number): string => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

/** CSV for accounting: one row per line and one per currency total (kind = line | total). */
export function statementCsv(s: Statement): string[] {
  const head = ['kind', 'statement', 'party', 'role', 'from', 'to', 'contractId', 'datasetId', 'counterparty', 'invocations', 'perInvocation', 'currency', 'amount'];
  const base = [s.id, s.party, s.role, s.from, s.to];
  const rows = s.lines.map((l) => ['line', ...base, l.contractId, l.datasetId, l.counterparty, l.invocations, l.perInvocation, l.currency, l.amount]);
  const totals = s.totals.map((t) => ['total', ...base, '', '', '', s.lines.filter((l) => l.currency === t.currency).reduce((a, l) => a + l.invocations, 0), '', t.currency, t.amount]);
  return [head, ...rows, ...totals].map((r) => r.map(csvCell).join(','));
}

/** The statement as a table for people. */
export function statementTable(s: Statement, lines: readonly StatementLine[] = s.lines): string[] {
  const out = [
    `statement ${s.id}  ${s.role} ${s.party}`,
    `period    ${s.from} .. ${s.to} (to exclusive)   ledger tree size ${s.treeSize}`,
  ];
  const rows = [['contract', 'counterparty', 'invocations', 'per invocation', 'amount'], ...lines.map((l) => [l.contractId, l.counterparty, String(l.invocations), `${l.perInvocation} ${l.currency}`, `${l.amount} ${l.currency}`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out.push(r.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
  if (lines.length === 0) out.push('(no releases in the period)');
  for (const t of s.totals) out.push(`total ${t.amount} ${t.currency}`);
  return out;
}

function printStatement(ctx: CommandContext, signed: SignedStatement): void {
  const { io, p, settings } = ctx;
  if (settings.json) io.out(JSON.stringify(signed, null, 2));
  else for (const l of p.values.csv ? statementCsv(signed.statement) : statementTable(signed.statement)) io.out(l);
}

function readJsonFile<T>(file: string, what: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function partyClient(ctx: CommandContext): Promise<TdsClient & { credentials: { id: string } }> {
  const client = await ctx.client();
  if (!client.credentials?.id) throw new UsageError(`${ctx.p.command}: key file ${ctx.settings.keyFile} has no participant id: register first`);
  return client as TdsClient & { credentials: { id: string } };
}

/** `tds statement create`: issue a statement (default party: the key file's participant). */
export const statementCreate: CommandSpec = {
  name: 'statement create',
  synopsis: '--from T --to T [--party ID] [--role provider|consumer] [--out FILE] [--csv]',
  summary: 'issue your signed statement for [from, to) (operator: anyone\'s, with --party)',
  options: { from: { type: 'string' }, to: { type: 'string' }, party: { type: 'string' }, role: { type: 'string' }, out: { type: 'string' }, csv: { type: 'boolean' } },
  run: async (ctx) => {
    const { p } = ctx;
    const from = requireOption(p, 'from');
    const to = requireOption(p, 'to');
    const role = choiceOption(p, 'role', ['provider', 'consumer'] as const);
    const client = await partyClient(ctx);
    const signed = await client.request<SignedStatement>('POST', '/v1/statements', { party: stringOption(p, 'party') ?? client.credentials.id, from, to, ...(role ? { role } : {}) });
    const out = stringOption(p, 'out');
    if (out) fs.writeFileSync(out, `${JSON.stringify(signed, null, 2)}\n`);
    printStatement(ctx, signed);
    if (out && !ctx.settings.json) ctx.io.out(`written to ${out}`);
    return 0;
  },
};

/** `tds statement show ID|FILE`: an issued statement from the service, or a saved file. */
export const statementShow: CommandSpec = {
  name: 'statement show',
  synopsis: '<statementId|FILE> [--csv]',
  summary: 'show a statement as a table, or --csv for accounting',
  options: { csv: { type: 'boolean' } },
  positionals: [1, 1],
  run: async (ctx) => {
    const arg = ctx.p.positionals[0]!;
    const signed = fs.existsSync(arg)
      ? readJsonFile<SignedStatement>(arg, 'statement show')
      : await (await partyClient(ctx)).request<SignedStatement>('GET', `/v1/statements/${encodeURIComponent(arg)}`);
    printStatement(ctx, signed);
    return 0;
  },
};

/**
 * Download what verification needs: the party's pages from index 0 up to the
 * statement's tree size, a consistency proof to each served checkpoint, and
 * the signed documents of contracts whose activation carries no price.
 */
export async function fetchEvidence(client: TdsClient, s: Statement, io?: Pick<CliIo, 'progress'>): Promise<{ pages: PartyPage[]; consistency: Record<number, string[]>; documentPrices: Record<string, ContractTerms['price']> }> {
  const pages: PartyPage[] = [];
  let start = 0;
  for (;;) {
    const page = await client.getJson<PartyPage & { nextStart: number }>('/v1/ledger/mine', { start, limit: 1000 });
    pages.push(page);
    io?.progress?.(`fetching your ledger entries: ${Math.min(page.nextStart, s.treeSize)}/${s.treeSize}`);
    if (page.nextStart >= s.treeSize || page.nextStart <= start) break;
    start = page.nextStart;
  }
  const consistency: Record<number, string[]> = {};
  for (const size of new Set(pages.map((pg) => pg.treeSize))) {
    if (size > s.treeSize && s.treeSize > 0) consistency[size] = (await client.getJson<{ proof: string[] }>('/v1/ledger/proofs/consistency', { from: s.treeSize, to: size })).proof;
  }
  const documentPrices: Record<string, ContractTerms['price']> = {};
  for (const pg of pages) {
    for (const { entry } of pg.entries) {
      const e = entry as { kind: string; subjects: Record<string, string>; data: Record<string, unknown> };
      if (e.kind !== 'contract.activated' || 'price' in e.data) continue;
      // Activated before the ledger carried prices: take the signed document, bound to the ledger by its digest.
      const c = await client.getJson<{ document: { price: { perInvocation: string | number; currency: string } | null }; canonical: string }>(`/v1/contracts/${e.subjects.contract}`);
      if (canonicalize(c.document) !== c.canonical || toHex(sha256(utf8(c.canonical))) !== e.data.digest) continue;
      documentPrices[e.subjects.contract!] = c.document.price ? { perInvocation: String(c.document.price.perInvocation), currency: c.document.price.currency } : null;
    }
  }
  return { pages, consistency, documentPrices };
}

/** `tds statement verify FILE`: signature, proofs, completeness, every line and total; exit 1 naming the first discrepancy. */
export const statementVerify: CommandSpec = {
  name: 'statement verify',
  synopsis: '<FILE> --log-key KEY|@FILE [--csv]',
  summary: 'check a statement against your own proven ledger entries (signature, completeness, amounts)',
  options: { 'log-key': { type: 'string' }, csv: { type: 'boolean' } },
  positionals: [1, 1],
  run: async (ctx) => {
    const { p, io } = ctx;
    const logKey = requireLogKey(p).text;
    const signed = readJsonFile<SignedStatement>(p.positionals[0]!, 'statement verify');
    if (typeof signed?.statement?.treeSize !== 'number') throw new UsageError(`statement verify: ${p.positionals[0]} is not a {statement, signature} file`);
    const client = await partyClient(ctx);
    const evidence = await fetchEvidence(client, signed.statement, io);
    const result = verifyStatement(statementCurrencies(), { signed, logKey, partyId: client.credentials.id, ...evidence });
    if (!result.ok) {
      io.out(`FAILED: ${result.problem}`);
      return 1;
    }
    if (p.values.csv) for (const l of statementCsv(signed.statement)) io.out(l);
    else {
      for (const l of statementTable(signed.statement)) io.out(l);
      io.out(`OK: signature by the pinned ledger key; ${result.entriesChecked} of your entries proven against signed checkpoints consistent with tree size ${signed.statement.treeSize}`);
      io.out(`  checked: ${result.releasesInTree} release(s) of your contracts, invocation numbers contiguous (nothing hidden or doubled); ${result.lines.length} line(s) and every amount and total recomputed exactly`);
    }
    return 0;
  },
};

/** `tds settlement`: the operator's per-currency view of a period. */
export const settlementCommand: CommandSpec = {
  name: 'settlement',
  synopsis: '--from T --to T [--csv]',
  summary: 'operator: per currency, what each consumer owes and each provider is owed; checks both sides balance',
  options: { from: { type: 'string' }, to: { type: 'string' }, csv: { type: 'boolean' } },
  run: async (ctx) => {
    const { p, io } = ctx;
    const view = await (await partyClient(ctx)).getJson<{
      from: string; to: string; treeSize: number; balanced: boolean;
      currencies: Array<{ currency: string; consumersTotal: string; providersTotal: string; balanced: boolean; consumers: Array<{ party: string; amount: string; invocations: number }>; providers: Array<{ party: string; amount: string; invocations: number }> }>;
    }>('/v1/settlements', { from: requireOption(p, 'from'), to: requireOption(p, 'to') });
    if (ctx.settings.json) io.out(JSON.stringify(view, null, 2));
    else if (p.values.csv) {
      io.out('currency,side,party,invocations,amount');
      for (const c of view.currencies) {
        for (const x of c.consumers) io.out([c.currency, 'owes', x.party, x.invocations, x.amount].map(csvCell).join(','));
        for (const x of c.providers) io.out([c.currency, 'is owed', x.party, x.invocations, x.amount].map(csvCell).join(','));
      }
    } else {
      io.out(`settlement ${view.from} .. ${view.to} (to exclusive)   ledger tree size ${view.treeSize}`);
      for (const c of view.currencies) {
        io.out(`${c.currency}: consumers owe ${c.consumersTotal}, providers are owed ${c.providersTotal}${c.balanced ? '' : '   NOT BALANCED'}`);
        for (const x of c.consumers) io.out(`  owes     ${x.party}  ${x.amount} ${c.currency} (${x.invocations})`);
        for (const x of c.providers) io.out(`  is owed  ${x.party}  ${x.amount} ${c.currency} (${x.invocations})`);
      }
      if (view.currencies.length === 0) io.out('(no releases in the period)');
    }
    if (!view.balanced) io.err('tds: the two sides do not balance');
    return view.balanced ? 0 : 1;
  },
};
