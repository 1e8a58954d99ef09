/**
 * The SQL of reciprocity: the rules table, and the one read of the facts
 * rules are evaluated on (the requester's datasets and offers, its release
 * counts, the database time). The facts read crosses into datasets, offers
 * and jobs on purpose: it is a read model of what the requester has shared
 * and received, read in the caller's transaction so a decision and the
 * release it gates see the same rows.
 */
import type { EntityManager } from 'typeorm';
import type { Queryable } from '../db/transaction.js';


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

/**
 * Rules, optionally of one field and/or scope, oldest first; with `page`, at
 * most `limit` of them after the keyset position `after` ([created_at, id]).
 */
export async function listRules<Body>(
  q: Queryable,
  filter: { researchField?: string; scope?: string },
  page?: { limit: number; after?: [string, string] },
): Promise<Array<RuleRow<Body>>> {
  return (await q.query(
    `SELECT ${RULE_COLUMNS} FROM reciprocity_rules
      WHERE ($1::text IS NULL OR research_field = $1) AND ($2::text IS NULL OR scope = $2)
        AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::uuid))
      ORDER BY created_at, id LIMIT $5`,
    [filter.researchField ?? null, filter.scope ?? null, page?.after?.[0] ?? null, page?.after?.[1] ?? null, page?.limit ?? null],
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
  /** `offer_until`: when the latest-ending active offer covering now ends (null: no such offer, has_offer false). */
  own: Array<{ id: string; research_field: string; kind: 'raw' | 'insight'; published_at: string; status: string; has_offer: boolean; offer_until: string | null; proven: boolean }>;
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
 * The facts read as SQL parts, for readFacts and for statements that read them
 * together with something else (the release path's ruled read): `ctes` (to
 * follow WITH) and `columns` (FactsRow). `requester` and `fields` are SQL
 * expressions (a uuid and a text[]). Received counts come from
 * reciprocity_received (kept exact by the release statement), given counts
 * from the requester's proven datasets' jobs.
 */
export function factsSql(requester: string, fields: string): { ctes: string; columns: string } {
  return {
    ctes: `mine AS (
       SELECT d.id, d.research_field, d.kind, d.published_at, d.status, ${PROVEN_DATASET} AS proven,
              (SELECT max(o.valid_until) FROM offers o WHERE o.dataset_id = d.id AND o.status = 'active' AND now() >= o.valid_from AND now() < o.valid_until) AS offer_until
         FROM datasets d WHERE d.provider_id = ${requester} AND d.research_field = ANY(${fields}))`,
    columns: `now() AS now,
            (SELECT coalesce(json_agg(json_build_object('id', m.id, 'research_field', m.research_field, 'kind', m.kind, 'published_at', m.published_at, 'status', m.status,
                      'has_offer', m.offer_until IS NOT NULL, 'offer_until', m.offer_until, 'proven', m.proven)), '[]'::json) FROM mine m) AS own,
            (SELECT coalesce(json_agg(x), '[]'::json) FROM (
               SELECT coalesce(r.research_field, g.research_field) AS research_field, coalesce(r.kind, g.kind) AS kind,
                      coalesce(r.received, 0)::int AS received, coalesce(g.given, 0)::int AS given
                 FROM (SELECT c.research_field, c.kind, c.received FROM reciprocity_received c
                        WHERE c.participant_id = ${requester} AND c.research_field = ANY(${fields})) r
                 FULL JOIN (SELECT j.research_field, d.kind, count(*) AS given FROM jobs j JOIN datasets d ON d.id = j.dataset_id
                             WHERE j.provider_id = ${requester} AND j.consumer_id <> ${requester} AND j.research_field = ANY(${fields})
                               AND EXISTS (SELECT 1 FROM mine m WHERE m.id = j.dataset_id AND m.proven)
                             GROUP BY j.research_field, d.kind) g
                   ON g.research_field = r.research_field AND g.kind = r.kind) x) AS counts`,
  };
}

/**
 * In one round trip: the requester's datasets in these fields (with whether
 * each has an active offer and was shown real), its release counts by field
 * and kind (received: all releases of others' datasets to it; given: releases
 * of its proven datasets to others) and the database time.
 */
export async function readFacts(q: Queryable, requesterId: string, fields: readonly string[]): Promise<FactsRow> {
  const { ctes, columns } = factsSql('$1', '$2::text[]');
  const rows = (await q.query(`WITH ${ctes} SELECT ${columns}`, [requesterId, fields])) as FactsRow[];
  return rows[0]!;
}

/**
 * The release statement's addition to what its consumer received (SQL, to
 * follow WITH as `name AS (...)`): one more in the dataset's field and kind
 * unless the consumer provides the dataset itself, under the row's lock,
 * returning the new count and the row's version (see bumpVersion).
 * `released` is the CTE of the counted contract (consumer_id, provider_id,
 * dataset_id), `field` a SQL expression.
 */
export function receivedIncrementSql(released: string, field: string): string {
  return `INSERT INTO reciprocity_received AS c (participant_id, research_field, kind, received)
    SELECT u.consumer_id, ${field}, d.kind, 1 FROM ${released} u JOIN datasets d ON d.id = u.dataset_id WHERE u.provider_id <> u.consumer_id
    ON CONFLICT (participant_id, research_field, kind) DO UPDATE SET received = c.received + 1
    RETURNING c.received, c.version`;
}

/**
 * receivedIncrementSql for a batch of releases: `released` is a CTE with one
 * row per released job (consumer_id, provider_id, dataset_id,
 * research_field). Each consumer's row of a field and kind grows by its
 * releases there, in one upsert: ON CONFLICT cannot touch a row twice in one
 * statement, so the rows are summed first, and locked in key order. Returns
 * each row's key, new count and version.
 */
export function receivedIncrementsSql(released: string): string {
  return `INSERT INTO reciprocity_received AS c (participant_id, research_field, kind, received)
    SELECT u.consumer_id, u.research_field, d.kind, count(*) FROM ${released} u JOIN datasets d ON d.id = u.dataset_id WHERE u.provider_id <> u.consumer_id
     GROUP BY u.consumer_id, u.research_field, d.kind ORDER BY u.consumer_id, u.research_field, d.kind
    ON CONFLICT (participant_id, research_field, kind) DO UPDATE SET received = c.received + excluded.received
    RETURNING c.participant_id, c.research_field, c.kind, c.received, c.version`;
}

/**
 * SQL of the reciprocity facts version a release decides on: that of the
 * requester's received row for the dataset's field and kind (0 before its
 * first). `requester`, `field` and `kind` are SQL expressions.
 */
export function releasedVersionSql(requester: string, field: string, kind: string): string {
  return `coalesce((SELECT c.version FROM reciprocity_received c WHERE c.participant_id = ${requester} AND c.research_field = ${field} AND c.kind = ${kind}), 0)`;
}

/** SQLSTATE of the release statement's abort when what its decision saw changed (tds_reciprocity_changed). */
export const RECIPROCITY_CHANGED = 'TDS01';

/**
 * Inside tx: a change that can make a rule less permissive for the
 * participant as a provider in this field (a withdrawal of its dataset) bumps
 * the version of its received rows of the field, every kind, so a release to
 * it decided on the old facts without the locks aborts at commit.
 */
export async function bumpVersion(tx: EntityManager, participantId: string, field: string): Promise<void> {
  await tx.query(
    `INSERT INTO reciprocity_received AS c (participant_id, research_field, kind, received, version) SELECT $1, $2, k, 0, 1 FROM unnest(ARRAY['insight', 'raw']) AS t(k)
     ON CONFLICT (participant_id, research_field, kind) DO UPDATE SET version = c.version + 1`,
    [participantId, field],
  );
}

/**
 * Inside tx: share-lock what the participant received in these (field, kind)
 * pairs (creating zero rows where none exist yet), so no release to it there
 * commits until tx ends and a facts read after this sees the final counts. The
 * release path takes it for give-to-get rules about another field or kind than
 * the released dataset's, whose counts the release itself does not move.
 */
export async function holdReceived(tx: EntityManager, participantId: string, keys: ReadonlyArray<{ field: string; kind: string }>): Promise<void> {
  if (keys.length === 0) return;
  const fields = keys.map((k) => k.field);
  const kinds = keys.map((k) => k.kind);
  await tx.query(
    `INSERT INTO reciprocity_received (participant_id, research_field, kind, received) SELECT $1, f, k, 0 FROM unnest($2::text[], $3::text[]) AS t(f, k) ON CONFLICT DO NOTHING`,
    [participantId, fields, kinds],
  );
  await tx.query(
    `SELECT 1 FROM reciprocity_received c JOIN unnest($2::text[], $3::text[]) AS t(f, k) ON c.research_field = t.f AND c.kind = t.k WHERE c.participant_id = $1 FOR SHARE OF c`,
    [participantId, fields, kinds],
  );
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
