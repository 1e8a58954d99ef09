/**
 * The SQL of reciprocity: the rules table, and the one read of the facts
 * rules are evaluated on (the requester's datasets and offers, its release
 * counts, the database time). The facts read crosses into datasets, offers
 * and jobs on purpose: it is a read model of what the requester has shared
 * and received, read in the caller's transaction so a decision and the
 * release it gates see the same rows.
 */
import type { EntityManager } from 'typeorm';

/** A data source or a transaction's manager. */
type Queryable = Pick<EntityManager, 'query'>;

/** One stored rule: its body is the rule as created (reciprocity-rule.v1). */
export interface RuleRow<Body = Record<string, unknown>> { id: string; scope: 'space' | 'offer'; body: Body; created_by: string; created_at: Date | string }

/** The columns a rule is read with (RuleRow). */
const RULE_COLUMNS = 'id, scope, body, created_by, created_at';

/**
 * The rules that govern a dataset, as a WHERE condition on reciprocity_rules
 * aliased `r`: the space rules of the dataset's field and kind, plus the ones
 * its offer references. Arguments are SQL expressions (parameters or columns).
 */
export function rulesOfDatasetCondition(field: string, kind: string, offerRuleIds: string): string {
  return `(r.scope = 'space' AND r.research_field = ${field} AND r.dataset_kind = ${kind}) OR r.id = ANY(${offerRuleIds})`;
}

/** Insert a rule; returns it as stored. */
export async function insertRule<Body extends { kind: string; researchField: string; datasetKind: string }>(tx: EntityManager, scope: 'space' | 'offer', body: Body, createdBy: string): Promise<RuleRow<Body>> {
  const rows = (await tx.query(
    `INSERT INTO reciprocity_rules (scope, kind, research_field, dataset_kind, body, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${RULE_COLUMNS}`,
    [scope, body.kind, body.researchField, body.datasetKind, JSON.stringify(body), createdBy],
  )) as Array<RuleRow<Body>>;
  return rows[0]!;
}

/** Every rule, optionally of one field and/or scope, oldest first. */
export async function listRules<Body>(q: Queryable, filter: { researchField?: string; scope?: string }): Promise<Array<RuleRow<Body>>> {
  return (await q.query(
    `SELECT ${RULE_COLUMNS} FROM reciprocity_rules
      WHERE ($1::text IS NULL OR research_field = $1) AND ($2::text IS NULL OR scope = $2) ORDER BY created_at, id`,
    [filter.researchField ?? null, filter.scope ?? null],
  )) as Array<RuleRow<Body>>;
}

/** Scope and author of each of these rule ids that exists. */
export async function ruleOwners(q: Queryable, ids: readonly string[]): Promise<Array<{ id: string; scope: string; created_by: string }>> {
  return (await q.query('SELECT id, scope, created_by FROM reciprocity_rules WHERE id = ANY($1::uuid[])', [ids])) as Array<{ id: string; scope: string; created_by: string }>;
}

/** The rules that govern a dataset of this field and kind under an offer referencing offerRuleIds, oldest first. */
export async function rulesOfDataset<Body>(q: Queryable, dataset: { researchField: string; kind: string }, offerRuleIds: readonly string[]): Promise<Array<RuleRow<Body>>> {
  return (await q.query(
    `SELECT ${RULE_COLUMNS} FROM reciprocity_rules r WHERE ${rulesOfDatasetCondition('$1', '$2', '$3::uuid[]')} ORDER BY created_at, id`,
    [dataset.researchField, dataset.kind, offerRuleIds],
  )) as Array<RuleRow<Body>>;
}

/** The raw facts about a requester in some fields (see readFacts). */
export interface FactsRow {
  now: Date;
  own: Array<{ id: string; research_field: string; kind: 'raw' | 'insight'; published_at: string; status: string; has_offer: boolean; proven: boolean }>;
  counts: Array<{ research_field: string; kind: 'raw' | 'insight'; received: number; given: number }>;
}

/**
 * When a dataset `d` counts as shown real (SQL condition): its provider's data
 * node attested its file, or another participant's job on it completed with
 * the published bytes (a download whose consumer reported the matching
 * SHA-256, or a compute job, whose provider's node checks the file's digest
 * before it runs and signs a result bound to that digest).
 */
export const PROVEN_DATASET = `(d.attested_at IS NOT NULL OR EXISTS (
  SELECT 1 FROM jobs v WHERE v.dataset_id = d.id AND v.state = 'completed' AND v.consumer_id <> d.provider_id
     AND (v.access = 'compute' OR v.dataset_sha256 = d.distribution->>'sha256')))`;

/**
 * In one round trip: the requester's datasets in these fields (with whether
 * each has an active offer and was shown real), its release counts by field
 * and kind (received: all releases of others' datasets to it; given: releases
 * of its proven datasets to others), and the database time.
 */
export async function readFacts(q: Queryable, requesterId: string, fields: readonly string[]): Promise<FactsRow> {
  const rows = (await q.query(
    `WITH mine AS (
       SELECT d.id, d.research_field, d.kind, d.published_at, d.status, ${PROVEN_DATASET} AS proven,
              EXISTS (SELECT 1 FROM offers o WHERE o.dataset_id = d.id AND o.status = 'active' AND now() >= o.valid_from AND now() < o.valid_until) AS has_offer
         FROM datasets d WHERE d.provider_id = $1 AND d.research_field = ANY($2::text[]))
     SELECT now() AS now,
            (SELECT coalesce(json_agg(json_build_object('id', m.id, 'research_field', m.research_field, 'kind', m.kind, 'published_at', m.published_at, 'status', m.status,
                      'has_offer', m.has_offer, 'proven', m.proven)), '[]'::json) FROM mine m) AS own,
            (SELECT coalesce(json_agg(x), '[]'::json) FROM (
               SELECT j.research_field, d.kind,
                      count(*) FILTER (WHERE j.consumer_id = $1 AND j.provider_id <> $1)::int AS received,
                      count(*) FILTER (WHERE j.provider_id = $1 AND j.consumer_id <> $1 AND EXISTS (SELECT 1 FROM mine m WHERE m.id = j.dataset_id AND m.proven))::int AS given
                 FROM jobs j JOIN datasets d ON d.id = j.dataset_id
                WHERE (j.consumer_id = $1 OR j.provider_id = $1) AND j.research_field = ANY($2::text[]) GROUP BY j.research_field, d.kind) x) AS counts`,
    [requesterId, fields],
  )) as FactsRow[];
  return rows[0]!;
}

/** What the next release under a contract is decided on: its consumer, its dataset's field and kind, the rule ids its document names. */
export async function contractRuleScope(q: Queryable, contractId: string): Promise<{ consumer_id: string; research_field: string; kind: 'raw' | 'insight'; rule_ids: string[] } | null> {
  const rows = (await q.query(
    `SELECT c.consumer_id, d.research_field, d.kind,
            ARRAY(SELECT jsonb_array_elements_text(coalesce(cd.document->'reciprocityRuleIds', '[]'::jsonb))) AS rule_ids
       FROM contracts c JOIN datasets d ON d.id = c.dataset_id JOIN contract_documents cd ON cd.contract_id = c.id WHERE c.id = $1`,
    [contractId],
  )) as Array<{ consumer_id: string; research_field: string; kind: 'raw' | 'insight'; rule_ids: string[] }>;
  return rows[0] ?? null;
}
