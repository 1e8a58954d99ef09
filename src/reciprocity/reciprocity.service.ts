/**
 * Reciprocity rules as data: created by the operator (space-wide) or by a
 * provider (applying only to offers that reference them), gathered for a
 * dataset and evaluated against facts read in the caller's transaction.
 * Evaluation itself is the pure evaluate-rules module and the SQL is in
 * reciprocity.store.ts; this gathers facts and turns decisions into refusals.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { forbidden, invalidField, notFound, refused, unknownRule } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { lockReciprocityFacts } from './reciprocity-lock.js';
import { contractRuleScope, holdReceived, insertRule, listRules, readFacts, ruleOwners, rulesOfDataset, type FactsRow, type RuleRow } from './reciprocity.store.js';
import { countedElsewhere, describeNeeds, describeRefusal, evaluateRules, receivedBounds, releaseKey, type DatasetKind, type ReceivedBounds, type ReciprocityDecision, type ReciprocityFacts, type ReciprocityRule } from './evaluate-rules.js';
import { isUuid } from '../ids.js';
import { decodeCursor, encodeCursor } from '../db/keyset-cursor.js';
import type { RuleInput, RuleView, Standing } from './rule-view.js';

export type { RuleInput, RuleView, Standing } from './rule-view.js';

function toView(r: RuleRow<RuleInput>): RuleView {
  return { id: r.id, scope: r.scope, ...r.body, createdBy: r.created_by, createdAt: new Date(r.created_at).toISOString() };
}

/** A rule view from a stored row (as read by another capability's query, e.g. the release path's json_agg). */
export function ruleViewFromRow(r: { id: string; scope: 'space' | 'offer'; body: Record<string, unknown>; created_by: string; created_at: Date | string }): RuleView {
  return toView(r as unknown as RuleRow<RuleInput>);
}

// Release counts of a field summed over the given dataset kinds.
function sumReleases(facts: ReciprocityFacts, field: string, kinds: Array<'raw' | 'insight'>): { receivedFromOthers: number; givenToOthers: number } {
  let receivedFromOthers = 0;
  let givenToOthers = 0;
  for (const k of kinds) {
    const c = facts.releases.get(releaseKey(field, k));
    receivedFromOthers += c?.receivedFromOthers ?? 0;
    givenToOthers += c?.givenToOthers ?? 0;
  }
  return { receivedFromOthers, givenToOthers };
}

function toRule(v: RuleView): ReciprocityRule {
  return { id: v.id, kind: v.kind, researchField: v.researchField, datasetKind: v.datasetKind, minCount: v.minCount, minAgeDays: v.minAgeDays, ratio: v.ratio, allowance: v.allowance };
}

/** The facts the pure evaluation takes, from a facts read (`pendingReleases`: releases being decided). */
function factsOfRow(requesterId: string, row: FactsRow, pendingReleases: number): ReciprocityFacts {
  return {
    requesterId,
    now: new Date(row.now),
    ownDatasets: row.own.map((d) => ({ id: d.id, researchField: d.research_field, kind: d.kind, publishedAt: new Date(d.published_at), withdrawn: d.status !== 'published', hasActiveOffer: d.has_offer, proven: d.proven === true })),
    releases: new Map(row.counts.map((c) => [releaseKey(c.research_field, c.kind), { receivedFromOthers: c.received, givenToOthers: c.given }])),
    pendingReleases,
  };
}

// The bounds of a refused release: nothing to re-check.
const NO_BOUNDS: ReceivedBounds = { limit: null, elsewhere: [] };

function decideOn(rules: RuleView[], facts: ReciprocityFacts): ReciprocityDecision {
  return rules.length === 0 ? { allowed: true, outcomes: [] } : evaluateRules(rules.map(toRule), facts);
}

/** Rule storage, fact gathering and enforcement. */
export class ReciprocityService {
  constructor(private readonly ds: DataSource) {}

  /** Operator: a space-wide rule; provider: a rule for its own offers to reference. */
  async create(actor: Principal, input: RuleInput): Promise<RuleView> {
    const scope = actor.roles.includes('operator') ? 'space' : 'offer';
    return inTransaction(this.ds, async (tx) => {
      const view = toView(await insertRule(tx, scope, input, actor.participantId));
      await appendEvent(tx, { kind: 'reciprocity_rule.created', actor: actor.participantId, subjects: { rule: view.id }, data: { scope, rule: input } });
      return view;
    });
  }

  /** Every rule, optionally filtered. */
  async list(q: { researchField?: string; scope?: string }): Promise<RuleView[]> {
    return (await listRules<RuleInput>(this.ds, q)).map(toView);
  }

  /** One page of the rules, oldest first (GET /v1/reciprocity-rules), keyset-paginated. */
  async page(q: { researchField?: string; scope?: string; limit: number; cursor?: string }): Promise<{ items: RuleView[]; nextCursor: string | null }> {
    const rows = await listRules<RuleInput>(this.ds, q, { limit: q.limit + 1, ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}) });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page.map(toView), nextCursor: rows.length > q.limit && last ? encodeCursor(new Date(last.created_at), last.id) : null };
  }

  /** Check that rule ids exist and that the provider may reference them (space rules, or its own). */
  async checkReferencable(tx: EntityManager, actor: Principal, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await ruleOwners(tx, ids);
    const found = new Map(rows.map((r) => [r.id, r]));
    const bad = ids.filter((id) => {
      const r = found.get(id);
      return !r || (r.scope === 'offer' && r.created_by !== actor.participantId);
    });
    if (bad.length > 0) throw unknownRule(bad);
  }

  /** The rules that govern access to a dataset: space rules of its field and kind, plus the offer's own. */
  async rulesFor(tx: EntityManager, dataset: { researchField: string; kind: string }, offerRuleIds: readonly string[]): Promise<RuleView[]> {
    return (await rulesOfDataset<RuleInput>(tx, dataset, offerRuleIds)).map(toView);
  }

  /** Facts about a requester in the given fields, read in tx (so a job sees what its transaction sees). */
  async factsFor(tx: EntityManager, requesterId: string, fields: string[], pendingReleases: number): Promise<ReciprocityFacts> {
    return factsOfRow(requesterId, await readFacts(tx, requesterId, fields), pendingReleases);
  }

  /**
   * THE reciprocity question of one more release (or proposal) to a
   * requester: the rules evaluated inside tx on the facts tx sees, counting
   * the release being decided. The release path (evaluateLocked), contract
   * proposals and the standing endpoint all ask it through this one method,
   * so standing answers exactly what the next release will be told.
   */
  async evaluate(tx: EntityManager, requesterId: string, rules: RuleView[], alsoFields: readonly string[] = []): Promise<{ decision: ReciprocityDecision; facts: ReciprocityFacts }> {
    // alsoFields: facts to gather beyond the rules' fields (standing shows them); they change no verdict.
    const fields = [...new Set([...rules.map((r) => r.researchField), ...alsoFields])];
    const facts = await this.factsFor(tx, requesterId, fields, 1);
    return { decision: decideOn(rules, facts), facts };
  }

  /**
   * The same decision on facts the release path read itself, in the one
   * statement that also read the rules (jobs' ruled read): `row` is that
   * statement's facts part, counting the release being decided of a dataset
   * in `released`'s field and kind; with the bounds its statement re-checks.
   */
  decideOnRead(requesterId: string, rules: RuleView[], row: FactsRow, released: { field: string; kind: DatasetKind }): { decision: ReciprocityDecision; bounds: ReceivedBounds } {
    const facts = factsOfRow(requesterId, row, 1);
    const decision = decideOn(rules, facts);
    return { decision, bounds: decision.allowed ? receivedBounds(rules.map(toRule), facts, released) : NO_BOUNDS };
  }

  /** The decision of `evaluate` (what proposals enforce). */
  async decide(tx: EntityManager, requesterId: string, rules: RuleView[]): Promise<ReciprocityDecision> {
    if (rules.length === 0) return { allowed: true, outcomes: [] };
    return (await this.evaluate(tx, requesterId, rules)).decision;
  }

  /**
   * The release path's decision under its locks: inside tx, take the requester's (requester, field)
   * advisory locks (a withdrawal takes them too) and hold still what it received where give-to-get rules
   * count another field or kind than the released dataset's, then evaluate on facts read after that.
   * Returns the bound the release statement re-checks: a release decided without the locks (the
   * one-read path) may still commit meanwhile in the dataset's own field and kind.
   */
  async evaluateLocked(tx: EntityManager, requesterId: string, rules: RuleView[], released: { field: string; kind: DatasetKind }): Promise<{ decision: ReciprocityDecision; bounds: ReceivedBounds }> {
    await lockReciprocityFacts(tx, requesterId, rules.map((r) => r.researchField));
    await holdReceived(tx, requesterId, countedElsewhere(rules.map(toRule), released));
    const { decision, facts } = await this.evaluate(tx, requesterId, rules, [released.field]);
    return { decision, bounds: decision.allowed ? receivedBounds(rules.map(toRule), facts, released) : NO_BOUNDS };
  }

  /** Throw RECIPROCITY_UNMET (naming each failing rule and what is missing) unless the decision allows. */
  static enforce(decision: ReciprocityDecision): void {
    if (!decision.allowed) {
      throw refused('RECIPROCITY_UNMET', describeRefusal(decision), { rules: decision.outcomes });
    }
  }

  /**
   * What the caller has shared in a field and what its next release would be
   * told: with `contractId`, the rules of that contract's next release (its
   * dataset's space rules plus the offer's own); otherwise the space-wide
   * rules of the field (and kind). The verdict comes from `evaluate`, the
   * method the release path runs, counting the release being asked about, and
   * `nextRelease.needs` says in words what one more release would need.
   */
  async standing(actor: Principal, q: { field?: string; kind?: 'raw' | 'insight'; contractId?: string }): Promise<Standing> {
    return inTransaction(this.ds, async (tx) => {
      let field = q.field;
      let kind = q.kind;
      let rules: RuleView[];
      if (q.contractId !== undefined) {
        const scope = isUuid(q.contractId) ? await contractRuleScope(tx, q.contractId) : null;
        if (!scope) throw notFound('contract', q.contractId);
        if (scope.consumer_id !== actor.participantId) throw forbidden('standing under a contract is for its consumer');
        if (field !== undefined && field !== scope.research_field) throw invalidField('/field', `the contract's dataset is in ${scope.research_field}, not ${field}`);
        if (kind !== undefined && kind !== scope.kind) throw invalidField('/kind', `the contract's dataset is ${scope.kind}, not ${kind}`);
        [field, kind] = [scope.research_field, scope.kind];
        rules = await this.rulesFor(tx, { researchField: scope.research_field, kind: scope.kind }, scope.rule_ids);
      } else {
        if (field === undefined) throw invalidField('/field', 'is required unless contractId is given');
        rules = (await this.list({ researchField: field })).filter((r) => r.scope === 'space' && (!kind || r.datasetKind === kind));
      }
      const f = field as string;
      const { decision, facts } = await this.evaluate(tx, actor.participantId, rules, [f]);
      const inField = facts.ownDatasets.filter((d) => d.researchField === f);
      const byKind = (k: 'raw' | 'insight') => {
        const outcomes = decision.outcomes.filter((o) => rules.find((r) => r.id === o.ruleId)?.datasetKind === k);
        const d = { allowed: outcomes.every((o) => o.holds), outcomes };
        return { authorized: d.allowed, needs: describeNeeds(d) };
      };
      return {
        participantId: actor.participantId,
        researchField: f,
        ...(kind ? { kind } : {}),
        ...(q.contractId ? { contractId: q.contractId } : {}),
        shared: inField.filter((d) => !d.withdrawn && d.hasActiveOffer).map((d) => ({ id: d.id, kind: d.kind, publishedAt: d.publishedAt.toISOString(), contributed: d.proven })),
        withheld: inField.filter((d) => d.withdrawn || !d.hasActiveOffer).map((d) => ({ id: d.id, kind: d.kind, withdrawn: d.withdrawn, hasActiveOffer: d.hasActiveOffer })),
        releases: sumReleases(facts, f, kind ? [kind] : ['raw', 'insight']),
        releasesByKind: { raw: sumReleases(facts, f, ['raw']), insight: sumReleases(facts, f, ['insight']) },
        mayAccess: decision.allowed,
        nextRelease: {
          authorized: decision.allowed,
          needs: describeNeeds(decision),
          ...(kind ? {} : { byKind: { raw: byKind('raw'), insight: byKind('insight') } }),
        },
        rules: decision.outcomes.map((o) => ({ ...o, rule: rules.find((r) => r.id === o.ruleId) })),
        note: q.contractId
          ? 'the rules of this contract\'s next release: its dataset\'s space-wide rules and the offer\'s own'
          : 'space-wide rules only; offers may add their own rules (ask with contractId for a contract\'s next release)',
        counting: 'a dataset counts as contributed once shown real: a completed job on it by another participant whose bytes matched its digest, or an attestation by its provider\'s data node; releases given count only for contributed datasets',
      };
    });
  }
}
