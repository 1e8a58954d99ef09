/**
 * Reciprocity rules as data: created by the operator (space-wide) or by a
 * provider (applying only to offers that reference them), gathered for a
 * dataset and evaluated against facts read in the caller's transaction.
 * Evaluation itself is the pure evaluate-rules module and the SQL is in
 * reciprocity.store.ts; this gathers facts and turns decisions into refusals.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { domainError, refused } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { lockReciprocityFacts } from './reciprocity-lock.js';
import { insertRule, listRules, readFacts, ruleOwners, rulesOfDataset, type RuleRow } from './reciprocity.store.js';
import { describeRefusal, evaluateRules, releaseKey, type ReciprocityDecision, type ReciprocityFacts, type ReciprocityRule } from './evaluate-rules.js';
import type { ReciprocityRuleV1 } from '../generated/contracts.js';

/** Body of a rule (already schema-checked): the type generated from reciprocity-rule.v1. */
export type RuleInput = ReciprocityRuleV1;

/** A stored rule as the API shows it. */
export type RuleView = RuleInput & {
  id: string;
  scope: 'space' | 'offer';
  createdBy: string;
  createdAt: string;
};

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

  /** Check that rule ids exist and that the provider may reference them (space rules, or its own). */
  async checkReferencable(tx: EntityManager, actor: Principal, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await ruleOwners(tx, ids);
    const found = new Map(rows.map((r) => [r.id, r]));
    const bad = ids.filter((id) => {
      const r = found.get(id);
      return !r || (r.scope === 'offer' && r.created_by !== actor.participantId);
    });
    if (bad.length > 0) throw domainError('UNKNOWN_RULE', `unknown reciprocity rule(s) or rules of another provider: ${bad.join(', ')}`);
  }

  /** The rules that govern access to a dataset: space rules of its field and kind, plus the offer's own. */
  async rulesFor(tx: EntityManager, dataset: { researchField: string; kind: string }, offerRuleIds: readonly string[]): Promise<RuleView[]> {
    return (await rulesOfDataset<RuleInput>(tx, dataset, offerRuleIds)).map(toView);
  }

  /** Facts about a requester in the given fields, read in tx (so a job sees what its transaction sees). */
  async factsFor(tx: EntityManager, requesterId: string, fields: string[], pendingReleases: number): Promise<ReciprocityFacts> {
    const { now, own, counts } = await readFacts(tx, requesterId, fields);
    return {
      requesterId,
      now,
      ownDatasets: own.map((d) => ({ id: d.id, researchField: d.research_field, kind: d.kind, publishedAt: new Date(d.published_at), withdrawn: d.status !== 'published', hasActiveOffer: d.has_offer })),
      releases: new Map(counts.map((c) => [releaseKey(c.research_field, c.kind), { receivedFromOthers: c.received, givenToOthers: c.given }])),
      pendingReleases,
    };
  }

  /** Evaluate rules for a requester inside tx; returns the decision (the caller decides how to refuse). */
  async evaluate(tx: EntityManager, requesterId: string, rules: RuleView[], pendingReleases = 1): Promise<ReciprocityDecision> {
    if (rules.length === 0) return { allowed: true, outcomes: [] };
    const fields = [...new Set(rules.map((r) => r.researchField))];
    const facts = await this.factsFor(tx, requesterId, fields, pendingReleases);
    return evaluateRules(rules.map(toRule), facts);
  }

  /** Evaluate rules for a requester inside tx after taking its (requester, field) locks: the facts cannot change until tx ends. */
  async evaluateLocked(tx: EntityManager, requesterId: string, rules: RuleView[]): Promise<ReciprocityDecision> {
    await lockReciprocityFacts(tx, requesterId, rules.map((r) => r.researchField));
    return this.evaluate(tx, requesterId, rules, 1);
  }

  /** Throw RECIPROCITY_UNMET (naming each failing rule and what is missing) unless the decision allows. */
  static enforce(decision: ReciprocityDecision): void {
    if (!decision.allowed) {
      throw refused('RECIPROCITY_UNMET', describeRefusal(decision), { rules: decision.outcomes });
    }
  }

  /** What the caller has shared in a field, which rules apply to it there and which hold. */
  async standing(actor: Principal, field: string, kind?: 'raw' | 'insight'): Promise<object> {
    return inTransaction(this.ds, async (tx) => {
      const rules = (await this.list({ researchField: field })).filter((r) => r.scope === 'space' && (!kind || r.datasetKind === kind));
      const facts = await this.factsFor(tx, actor.participantId, [field], 0);
      const decision = evaluateRules(rules.map(toRule), facts);
      return {
        participantId: actor.participantId,
        researchField: field,
        shared: facts.ownDatasets.filter((d) => !d.withdrawn && d.hasActiveOffer).map((d) => ({ id: d.id, kind: d.kind, publishedAt: d.publishedAt.toISOString() })),
        withheld: facts.ownDatasets.filter((d) => d.withdrawn || !d.hasActiveOffer).map((d) => ({ id: d.id, kind: d.kind, withdrawn: d.withdrawn, hasActiveOffer: d.hasActiveOffer })),
        releases: sumReleases(facts, field, kind ? [kind] : ['raw', 'insight']),
        releasesByKind: { raw: sumReleases(facts, field, ['raw']), insight: sumReleases(facts, field, ['insight']) },
        mayAccess: decision.allowed,
        rules: decision.outcomes.map((o) => ({ ...o, rule: rules.find((r) => r.id === o.ruleId) })),
        note: 'space-wide rules only; offers may add their own rules (see each offer reciprocityRuleIds)',
      };
    });
  }
}
