/**
 * Statements: what a party is owed (provider) or owes (consumer) for a
 * period, built from the ledger alone up to the latest signed checkpoint,
 * signed with the ledger key, stored and appended as `statement.issued` in
 * one transaction. Also the operator's settlement view across all parties.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { forbidden, internalError, notFound, roleRequired, validationFailed } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { databaseNow } from '../db/now.js';
import { appendEvent } from '../ledger/append-event.js';
import type { LedgerService } from '../ledger/ledger.service.js';
import type { Principal } from '../principal.js';
import { toBase64 } from '../crypto/sha256.js';
import type { ServiceKey } from '../service-keys.js';
import { amountFromNumber } from '../money/money.js';
import { statementCurrencies } from '../money/currencies.js';
import {
  STATEMENT_TYPE, buildLines, canonicalizeStatement, countedReleases, releaseOf, signStatement, termsOf, totalsOf,
  type ContractTerms, type EntryObject, type CountedRelease, type SignedStatement, type Statement, type StatementRole,
} from './statement-document.js';
import { settle, type SettlementCurrency } from './settlement.js';
import { insertStatement, readAllEntries, readDocumentPrices, readParticipant, readPartyEntries, readStatement } from './statements.store.js';
import type { Queryable } from '../db/transaction.js';

/** Body of POST /statements (schema-checked). */
export interface StatementRequest {
  party: string;
  from: string;
  to: string;
  role?: StatementRole;
}

/** The period as canonical ISO instants; VALIDATION_FAILED pointing at `to` unless from < to. */
export function periodOf(from: string, to: string): { from: string; to: string } {
  const f = new Date(from);
  const t = new Date(to);
  if (Number.isNaN(f.getTime())) throw validationFailed('from is not a date-time', [{ pointer: '/from', message: 'not a date-time' }]);
  if (Number.isNaN(t.getTime())) throw validationFailed('to is not a date-time', [{ pointer: '/to', message: 'not a date-time' }]);
  if (!(t > f)) throw validationFailed('the period is empty: to must be after from', [{ pointer: '/to', message: 'must be after from' }]);
  return { from: f.toISOString(), to: t.toISOString() };
}

/**
 * Release facts and contract terms from entries: prices from contract.activated
 * (the ledger), or for contracts activated before the ledger carried prices,
 * from their signed documents.
 */
export async function factsOf(q: Queryable, entries: readonly EntryObject[]): Promise<{ releases: CountedRelease[]; terms: Map<string, ContractTerms> }> {
  const releases: CountedRelease[] = [];
  const terms = new Map<string, ContractTerms>();
  const legacy: Array<Omit<ContractTerms, 'price'>> = [];
  for (const e of entries) {
    const r = releaseOf(e);
    if (r) releases.push(r);
    const t = termsOf(e);
    if (t && t.price !== undefined) terms.set(t.contractId, { ...t, price: t.price });
    else if (t) legacy.push(t);
  }
  const docs = await readDocumentPrices(q, legacy.map((t) => t.contractId));
  for (const t of legacy) {
    const p = docs.get(t.contractId) ?? null;
    if (p && !/^[0-9.]+$/.test(p.perInvocation)) throw internalError(`contract ${t.contractId} has an unreadable price`);
    const exact = p ? amountFromNumber(statementCurrencies(), Number(p.perInvocation), p.currency) : null;
    terms.set(t.contractId, { ...t, price: p && exact && 'amount' in exact ? { perInvocation: exact.amount, currency: p.currency } : null });
  }
  return { releases, terms };
}

/** Statement issuing and reading. */
export class StatementsService {
  constructor(
    private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    private readonly ledgerKey: ServiceKey,
  ) {}

  /** The party itself or the operator: issue a signed statement for [from, to) up to the latest signed checkpoint. */
  async issue(actor: Principal, req: StatementRequest): Promise<SignedStatement> {
    const isOperator = actor.roles.includes('operator');
    if (req.party !== actor.participantId && !isOperator) throw forbidden('a statement is issued to its party itself, or by the operator');
    const { from, to } = periodOf(req.from, req.to);
    const party = await readParticipant(this.ds, req.party);
    if (!party) throw notFound('participant', req.party);
    const role = roleOf(party.roles, req.role);
    const cp = await this.ledger.latestCheckpoint();
    const entries = await readPartyEntries(this.ds, req.party, cp.size);
    const { releases, terms } = await factsOf(this.ds, entries);
    const table = statementCurrencies();
    const lines = buildLines(table, countedReleases(releases, { party: req.party, role, from, to }), terms, role);
    return inTransaction(this.ds, async (tx) => {
      const issuedAt = (await databaseNow(tx)).toISOString();
      const statement: Statement = {
        type: STATEMENT_TYPE, id: randomUUID(), party: req.party, role, from, to,
        treeSize: cp.size, rootHash: toBase64(cp.rootHash), lines, totals: totalsOf(table, lines), issuedAt,
      };
      const { canonical, digest } = canonicalizeStatement(statement);
      const signature = signStatement(statement, this.ledgerKey.secretKey);
      await insertStatement(tx, { id: statement.id, party_id: req.party, role, canonical, digest, signature, from, to, treeSize: cp.size, issuedBy: actor.participantId });
      await appendEvent(tx, {
        kind: 'statement.issued',
        actor: actor.participantId,
        subjects: { statement: statement.id, party: req.party },
        data: { digest, role, from, to, treeSize: cp.size, rootHash: statement.rootHash, totals: statement.totals },
      });
      return { statement, signature };
    });
  }

  /** The party and the operator: an issued statement, exactly as signed. */
  async get(actor: Principal, id: string): Promise<SignedStatement> {
    const row = await readStatement(this.ds, id);
    if (!row) throw notFound('statement', id);
    if (row.party_id !== actor.participantId && !actor.roles.includes('operator')) throw forbidden('only the statement\'s party and the operator may read it');
    return { statement: JSON.parse(row.canonical) as Statement, signature: row.signature };
  }
}

/** The role a statement is about: the one asked for (which the party must hold), or the only one of provider/consumer it holds. */
export function roleOf(roles: readonly string[], asked: StatementRole | undefined): StatementRole {
  const held = (['provider', 'consumer'] as const).filter((r) => roles.includes(r));
  if (asked) {
    if (!held.includes(asked)) throw validationFailed(`the party does not hold the role ${asked}`, [{ pointer: '/role', message: `party is not a ${asked}` }]);
    return asked;
  }
  if (held.length === 0) throw validationFailed('the party is neither provider nor consumer: no statement to issue', [{ pointer: '/party', message: 'neither provider nor consumer' }]);
  if (held.length === 2) throw validationFailed('the party is both provider and consumer: say which with role', [{ pointer: '/role', message: 'required when the party holds both roles' }]);
  return held[0]!;
}

/** GET /settlements: per currency, what each consumer owes and each provider is owed, and whether the sides balance. */
export interface SettlementView {
  from: string;
  to: string;
  treeSize: number;
  rootHash: string;
  balanced: boolean;
  currencies: SettlementCurrency[];
}

/** The operator's settlement view of a period, from the ledger up to the latest signed checkpoint. */
export class SettlementsService {
  constructor(
    private readonly ds: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  /** Operator only: both sides of every release of the period, per currency. */
  async settle(actor: Principal, q: { from: string; to: string }): Promise<SettlementView> {
    if (!actor.roles.includes('operator')) throw roleRequired(['operator']);
    const { from, to } = periodOf(q.from, q.to);
    const cp = await this.ledger.latestCheckpoint();
    const { releases, terms } = await factsOf(this.ds, await readAllEntries(this.ds, cp.size));
    const { currencies, balanced } = settle(statementCurrencies(), releases, terms, from, to);
    return { from, to, treeSize: cp.size, rootHash: toBase64(cp.rootHash), balanced, currencies };
  }
}
