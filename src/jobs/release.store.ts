/**
 * The SQL of the release path (the jobs store), kept together because it is
 * the hot path and the heart of the exactly-k guarantee. It reads across
 * contracts, datasets, participants and rules, and writes the counter, the
 * job and the ledger events in ONE statement (data-modifying CTEs): a single
 * statement is atomic on its own, so no explicit transaction is needed.
 *
 * `RELEASE_AS_CALLER` is the request path of POST /v1/jobs when no
 * reciprocity rule governs the dataset: in one statement it records the
 * request token's id (the replay refusal every process shares), reads the
 * key's and caller's state, refuses a reused Idempotency-Key or a dataset
 * that rules govern, counts the invocation, inserts the job and queues
 * `job.authorized`. One round trip per authorization, or fewer: requests
 * that queue behind a running release statement go together in
 * `RELEASE_BATCH_AS_CALLER` (and `_RULED`), each decided as it would be alone.
 * Under reciprocity rules, `READ_RULED_FACTS` reads the rules and the
 * requester's facts in one statement, the service evaluates the rules, and
 * `RELEASE_AS_CALLER_RULED` releases in one more, with no lock held in
 * between: it checks that the rules are still those read, and its own
 * addition to what the requester received (reciprocity_received, kept by
 * every release statement) aborts the statement past the give-to-get bound
 * the decision allowed or when the row's version moved (a withdrawal).
 * Refusals, retries, failed checks and rules about another field (or
 * give-to-get about another kind) than the dataset's take `RELEASE` (the same
 * write and bound without the token) in a transaction that first takes the
 * requester's (requester, field) advisory locks (jobs.service.ts).
 * "The rules of a dataset" is the reciprocity store's one condition
 * (rulesOfDatasetCondition), not a copy. This is a deliberate exception to
 * "capabilities go through each other's services": those services own the
 * tables' meaning, this file only reads and gates them, and every contract,
 * dataset and party state it checks is re-checked inside the write's WHERE clause.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../db/prepared.js';
import { factsSql, receivedIncrementSql, receivedIncrementsSql, releasedVersionSql, rulesOfDatasetCondition, type FactsRow } from '../reciprocity/reciprocity.store.js';

// The ids of the rules the signed contract document's offer references, as uuid[] (offer rule ids are checked uuids).
const OFFER_RULE_IDS = `ARRAY(SELECT jsonb_array_elements_text(coalesce(cd.document->'reciprocityRuleIds', '[]'::jsonb))::uuid)`;

// The rules governing the dataset of contract `contract` (a SQL expression) now, as rows of reciprocity_rules `r`.
function rulesNowSql(contract: string): string {
  return `SELECT r.id, r.scope, r.body, r.created_by, r.created_at, r.research_field
    FROM contracts c JOIN datasets d ON d.id = c.dataset_id JOIN contract_documents cd ON cd.contract_id = c.id
    JOIN reciprocity_rules r ON (${rulesOfDatasetCondition('d.research_field', 'd.kind', OFFER_RULE_IDS)})
   WHERE c.id = ${contract}`;
}

/** Everything the checks need, in one read. $1 = contract id. */
export const READ_RELEASE_FACTS = `
SELECT c.id, c.consumer_id, c.provider_id, c.dataset_id, c.state, c.purposes, c.max_invocations, c.invocations_used,
       c.valid_from, c.valid_until,
       d.status AS dataset_status, d.research_field, d.kind AS dataset_kind, d.distribution,
       (SELECT count(*) FROM participants p WHERE p.id IN (c.consumer_id, c.provider_id) AND p.status = 'active')::int AS active_parties,
       coalesce(cd.document->>'access', 'download') AS access, cd.document->'outputPolicy' AS output_policy, d.schema AS dataset_schema,
       now() AS now,
       (SELECT coalesce(json_agg(json_build_object('id', r.id, 'scope', r.scope, 'body', r.body, 'created_by', r.created_by, 'created_at', r.created_at) ORDER BY r.created_at, r.id), '[]'::json)
          FROM reciprocity_rules r
         WHERE ${rulesOfDatasetCondition('d.research_field', 'd.kind', OFFER_RULE_IDS)}) AS rules
  FROM contracts c JOIN datasets d ON d.id = c.dataset_id JOIN contract_documents cd ON cd.contract_id = c.id
 WHERE c.id = $1`;

/** One row of READ_RELEASE_FACTS. */
export interface ReleaseFacts {
  id: string;
  consumer_id: string;
  provider_id: string;
  dataset_id: string;
  state: 'proposed' | 'consumer_signed' | 'active' | 'exhausted' | 'expired' | 'revoked';
  purposes: string[];
  max_invocations: number;
  invocations_used: number;
  valid_from: Date;
  valid_until: Date;
  dataset_status: 'published' | 'withdrawn';
  research_field: string;
  dataset_kind: 'raw' | 'insight';
  distribution: { url: string; sha256: string; byteSize: number; mediaType: string };
  active_parties: number;
  now: Date;
  rules: Array<{ id: string; scope: 'space' | 'offer'; body: Record<string, unknown>; created_by: string; created_at: string }>;
  /** From the signed document: how the dataset is used, and for compute its output policy. */
  access: 'compute' | 'download';
  output_policy: Record<string, unknown> | null;
  dataset_schema: unknown;
}

/**
 * The atomic gate: count one invocation only if the contract is active, in
 * its window, not exhausted, its dataset published and both parties active;
 * in the same statement insert the job and queue job.authorized (and
 * contract.exhausted for the last invocation). No row back = not released.
 * $1 contract, $2 consumer, $3 job id, $4 research field, $5 purpose,
 * $6 idempotency key, $7 request digest, $8 release (jsonb; null for compute), $9 subjects, $10 event data,
 * $11 initial state ('authorized' for download, 'queued' for compute), $12 access, $13 analysis (jsonb), $14 analysis digest.
 * A concurrent retry with the same Idempotency-Key fails the whole statement
 * on the unique index (23505), so nothing is counted twice.
 */
// A contract row `t` that may release one more invocation: active, in its window, not exhausted, its dataset
// published and both parties active. The one condition of every release statement, single or batched.
// dataset_withdrawn and parties_active are the withdrawal and the parties' status on the locked row itself
// (re-checked against a concurrent commit, which the subqueries are not); the subqueries stay as the checks of record.
function releasable(t: string): string {
  return `${t}.state = 'active' AND ${t}.invocations_used < ${t}.max_invocations
     AND now() >= ${t}.valid_from AND now() < ${t}.valid_until AND NOT ${t}.dataset_withdrawn AND ${t}.parties_active
     AND EXISTS (SELECT 1 FROM datasets d WHERE d.id = ${t}.dataset_id AND d.status = 'published')
     AND (SELECT count(*) FROM participants p WHERE p.id IN (${t}.consumer_id, ${t}.provider_id) AND p.status = 'active') = 2`;
}

// The ledger rows of one release, as `(VALUES ...) AS e(ord, kind, subjects, data)` to CROSS JOIN LATERAL,
// with the WHERE that keeps contract.exhausted only for the release that used the last invocation. The
// arguments are SQL expressions of the released job's row.
function releaseEvents(x: { subjects: string; data: string; invocation: string; max: string; contract: string; dataset: string; provider: string; consumer: string }): string {
  return `(VALUES
           (1, 'job.authorized', ${x.subjects}::jsonb,
            ${x.data}::jsonb || jsonb_build_object('invocation', ${x.invocation}, 'remaining', ${x.max} - ${x.invocation})),
           (2, 'contract.exhausted',
            jsonb_build_object('contract', ${x.contract}, 'dataset', ${x.dataset}, 'provider', ${x.provider}, 'consumer', ${x.consumer}),
            jsonb_build_object('invocationsUsed', ${x.invocation}))
         ) AS e(ord, kind, subjects, data)
   WHERE e.ord = 1 OR ${x.invocation} = ${x.max}`;
}

// The write shared by the release statements; `gate` is an extra SQL condition on the counter UPDATE.
function releaseWrite(gate: string): string {
  return `upd AS (
  UPDATE contracts
     SET invocations_used = invocations_used + 1,
         state = CASE WHEN invocations_used + 1 = max_invocations THEN 'exhausted' ELSE state END,
         updated_at = clock_timestamp()
   WHERE id = $1 AND consumer_id = $2 AND ${releasable('contracts')}
     AND ${gate}
  RETURNING id, dataset_id, provider_id, consumer_id, invocations_used, max_invocations
), job AS (
  INSERT INTO jobs (id, contract_id, consumer_id, provider_id, dataset_id, research_field, purpose, state, idempotency_key, request_digest, release,
                    access, analysis, analysis_digest)
  SELECT $3, upd.id, upd.consumer_id, upd.provider_id, upd.dataset_id, $4, $5, $11, $6, $7, $8::jsonb, $12, $13::jsonb, $14 FROM upd
  RETURNING created_at
), events AS (
  -- One INSERT, rows in cause-then-effect order: ledger_queue ids follow the rows as the ORDER BY yields them, so
  -- contract.exhausted lands after the job.authorized that used the last invocation. (Two sibling
  -- data-modifying CTEs run in an unspecified order; PostgreSQL in fact runs the later one first.)
  INSERT INTO ledger_queue (kind, actor, subjects, data)
  SELECT e.kind, $2, e.subjects, e.data
    FROM upd CROSS JOIN job
   CROSS JOIN LATERAL ${releaseEvents({
     subjects: '$9', data: '$10', invocation: 'upd.invocations_used', max: 'upd.max_invocations',
     contract: 'upd.id', dataset: 'upd.dataset_id', provider: 'upd.provider_id', consumer: 'upd.consumer_id',
   })}
   ORDER BY e.ord
), received AS (
  -- After the contract's row (every release locks its contract first, then at most this one counter row).
  ${receivedIncrementSql('upd', '$4')}
)`;
}

// The final check of a release under rules: the consumer's new received count in the dataset's field and kind
// must not pass `limit` (a bigint expression; NULL: no give-to-get bound) and its row's version must still be
// `seen` (NULL: not checked), else the whole statement aborts (SQLSTATE TDS01: nothing counted, nothing
// written) and the caller decides again on what is now true.
function unchanged(limit: string, seen: string): string {
  return `(SELECT bool_and(((${limit} IS NULL OR n.received <= ${limit}) AND (${seen} IS NULL OR n.version = ${seen}))
                            OR tds_reciprocity_changed(n.received, ${limit}, n.version, ${seen})) FROM received n)`;
}

/**
 * RELEASE_WRITE's parameters, plus $15 the most the consumer may have
 * received in the dataset's field and kind after this release (NULL: no
 * give-to-get bound) and $16 the version its decision saw (NULL: not
 * checked; the locked path holds the advisory locks a withdrawal takes).
 * No row back = not released; aborts with TDS01 when a check fails.
 */
export const RELEASE = `
WITH ${releaseWrite('true')}
SELECT upd.invocations_used, upd.max_invocations, job.created_at, ${unchanged('$15::bigint', '$16::bigint')} AS unchanged FROM upd, job`;

/** A row of RELEASE. */
export interface ReleaseRow { invocations_used: number; max_invocations: number; created_at: Date }

/**
 * The whole authorization of one POST /v1/jobs on a dataset no reciprocity
 * rule governs, in one statement: RELEASE_WRITE's parameters ($1..$14), plus
 * $15 the token's jti, $16 until when it is remembered, $17 the token's kid.
 * The token id is recorded whatever else happens (a refused request used its
 * token too); the release happens only when the token is fresh, the key
 * unrevoked, the caller active with role consumer, the Idempotency-Key unused
 * by the caller and no rule governs the dataset, besides the write's own
 * conditions. Always one row: what the gate saw (fresh, the key's state,
 * prior, ruled) and, when released, the counts and the job's creation time
 * (else nulls). A concurrent retry with the same Idempotency-Key fails the
 * whole statement on the unique index (23505), token record included.
 */
export const RELEASE_AS_CALLER = `
WITH used AS (
  INSERT INTO used_tokens (issuer, jti, expires_at) VALUES ($2::uuid::text, $15, $16) ON CONFLICT DO NOTHING RETURNING 1
), who AS (
  SELECT k.revoked_at, p.status, p.roles FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = $17 AND k.participant_id = $2
), gate AS (
  SELECT EXISTS (SELECT 1 FROM used) AS fresh,
         EXISTS (SELECT 1 FROM who WHERE who.revoked_at IS NULL AND who.status = 'active' AND 'consumer' = ANY(who.roles)) AS caller_ok,
         ($6::text IS NOT NULL AND EXISTS (SELECT 1 FROM jobs j WHERE j.consumer_id = $2 AND j.idempotency_key = $6::text)) AS prior,
         EXISTS (${rulesNowSql('$1')}) AS ruled
), ${releaseWrite('(SELECT g.fresh AND g.caller_ok AND NOT g.prior AND NOT g.ruled FROM gate g)')}
SELECT g.fresh, g.prior, g.ruled, w.revoked_at, w.status, w.roles, r.invocations_used, r.max_invocations, r.created_at
  FROM gate g LEFT JOIN who w ON true
  LEFT JOIN LATERAL (SELECT upd.invocations_used, upd.max_invocations, job.created_at FROM upd, job) r ON true`;

/**
 * RELEASE_AS_CALLER for several authorizations at once (release-batcher.ts
 * sends the requests that queued while earlier statements were running): the
 * same gate, count, job, ledger queue and received counter, each parameter an
 * array with one element per request, in request order. One statement and one
 * commit for all of them is what makes the authorization cost about what the
 * database must do for it (bench/README.md, "Batched authorizations": a
 * batch of 8 cost PostgreSQL ~0.3 CPU ms per job, one job per statement
 * ~1.3 at 32 clients).
 *
 * What each request gets is what it would get alone, in request order:
 * - its token id is recorded; a jti that an earlier request of the batch
 *   carries is not fresh (ON CONFLICT DO NOTHING keeps one row for both);
 * - the contracts are locked in id order (FOR UPDATE: the latest version,
 *   re-checked), and a contract with r invocations left releases to its
 *   first min(r, n) eligible requests, numbered from its count on; the
 *   others get no job (the caller takes the reference path, as when alone);
 * - contract.exhausted is queued right after the job.authorized that used
 *   the last invocation;
 * - the received counters, locked after every contract and in key order (no
 *   lock cycle with single releases, which lock one contract and then one
 *   counter), grow by what was released.
 * Two requests of the batch with the same consumer and Idempotency-Key fail
 * it whole on the unique index, as any statement error does: the batcher
 * then runs each request on its own (RELEASE_AS_CALLER), nothing written.
 * One row per request, in request order, with RELEASE_AS_CALLER's columns.
 */
// RELEASE_BATCH_AS_CALLER (ruled: false) or RELEASE_BATCH_AS_CALLER_RULED (ruled: true).
function releaseBatchSql(ruled: boolean): string {
  const ruledColumns = ruled ? `, r.v->>17 AS rule_ids, (r.v->>18)::bigint AS max_received, (r.v->>19)::bigint AS seen_version` : '';
  // Under rules: the rules governing the contract now must be exactly those the decision evaluated (rule ids
  // are distinct, so the sorted id arrays are equal exactly when the sets are); one read of them per request.
  const ruleGate = ruled
    ? `coalesce((SELECT array_agg(n.id ORDER BY n.id) FROM (${rulesNowSql('b.contract')}) n), '{}')
          = coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(string_to_array(b.rule_ids, ',')::uuid[]) x), '{}') AS same_rules`
    : `EXISTS (${rulesNowSql('b.contract')}) AS ruled`;
  // $1 is one JSON array with one array of values per request (batchRows), the JSON values (BATCH_JSON_VALUES)
  // nested as JSON (-> gives a JSON null, not NULL, hence nullif): pg would otherwise encode one array literal per column, escaping every quote of the
  // JSON values in JavaScript, element by element.
  return `
WITH b AS (
  SELECT (r.v->>0)::uuid AS contract, (r.v->>1)::uuid AS consumer, (r.v->>2)::uuid AS job_id, r.v->>3 AS field, r.v->>4 AS purpose,
         r.v->>5 AS idem, r.v->>6 AS digest, nullif(r.v->7, 'null') AS rel, r.v->8 AS subjects, r.v->9 AS data, r.v->>10 AS state,
         r.v->>11 AS access, nullif(r.v->12, 'null') AS analysis, r.v->>13 AS analysis_digest, r.v->>14 AS jti, (r.v->>15)::timestamptz AS expires_at, r.v->>16 AS kid${ruledColumns}, r.ord
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(v, ord)
), used AS (
  INSERT INTO used_tokens (issuer, jti, expires_at) SELECT consumer::text, jti, expires_at FROM b ORDER BY ord ON CONFLICT DO NOTHING RETURNING issuer, jti
), items AS (
  SELECT b.ord, b.contract, b.consumer, w.revoked_at, w.status, w.roles,
         (EXISTS (SELECT 1 FROM used u WHERE u.issuer = b.consumer::text AND u.jti = b.jti)
          AND NOT EXISTS (SELECT 1 FROM b e WHERE e.consumer = b.consumer AND e.jti = b.jti AND e.ord < b.ord)) AS fresh,
         (b.idem IS NOT NULL AND EXISTS (SELECT 1 FROM jobs j WHERE j.consumer_id = b.consumer AND j.idempotency_key = b.idem)) AS prior,
         ${ruleGate}
    FROM b LEFT JOIN LATERAL (
      SELECT k.revoked_at, p.status, p.roles FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = b.kid AND k.participant_id = b.consumer
    ) w ON true
), eligible AS (
  SELECT i.ord, i.contract, i.consumer, row_number() OVER (PARTITION BY i.contract ORDER BY i.ord) AS rk FROM items i
   WHERE i.fresh AND NOT i.prior AND ${ruled ? 'i.same_rules' : 'NOT i.ruled'} AND i.revoked_at IS NULL AND i.status = 'active' AND 'consumer' = ANY(i.roles)
), locked AS (
  SELECT c.id, c.invocations_used AS old, least(w.n, c.max_invocations - c.invocations_used) AS granted
    FROM contracts c JOIN (SELECT contract, consumer, count(*) AS n FROM eligible GROUP BY contract, consumer) w ON w.contract = c.id AND w.consumer = c.consumer_id
   WHERE ${releasable('c')}
   ORDER BY c.id
     FOR UPDATE OF c
), upd AS (
  UPDATE contracts
     SET invocations_used = l.old + l.granted,
         state = CASE WHEN l.old + l.granted = contracts.max_invocations THEN 'exhausted' ELSE contracts.state END,
         updated_at = clock_timestamp()
    FROM locked l
   WHERE contracts.id = l.id
  RETURNING contracts.id, contracts.dataset_id, contracts.provider_id, l.old, l.granted, contracts.max_invocations
), granted AS (
  SELECT e.ord, e.contract, e.consumer AS consumer_id, u.dataset_id, u.provider_id, (u.old + e.rk)::int AS invocation, u.max_invocations,
         b.job_id, b.field AS research_field, b.purpose, b.idem, b.digest, b.rel, b.subjects, b.data, b.state, b.access, b.analysis, b.analysis_digest${ruled ? ', b.max_received, b.seen_version' : ''}
    FROM eligible e JOIN upd u ON u.id = e.contract JOIN b ON b.ord = e.ord
   WHERE e.rk <= u.granted
), job AS (
  INSERT INTO jobs (id, contract_id, consumer_id, provider_id, dataset_id, research_field, purpose, state, idempotency_key, request_digest, release,
                    access, analysis, analysis_digest)
  SELECT job_id, contract, consumer_id, provider_id, dataset_id, research_field, purpose, state, idem, digest, rel::jsonb, access, analysis::jsonb, analysis_digest
    FROM granted ORDER BY ord
  RETURNING id, created_at
), events AS (
  INSERT INTO ledger_queue (kind, actor, subjects, data)
  SELECT e.kind, g.consumer_id::text, e.subjects, e.data
    FROM granted g
   CROSS JOIN LATERAL ${releaseEvents({
     subjects: 'g.subjects', data: 'g.data', invocation: 'g.invocation', max: 'g.max_invocations',
     contract: 'g.contract', dataset: 'g.dataset_id', provider: 'g.provider_id', consumer: 'g.consumer_id',
   })}
   ORDER BY g.ord, e.ord
), received AS (
  ${receivedIncrementsSql('granted')}
)${ruled ? `, after_each AS (
  -- What each released request's consumer had received right after it, in request order: the count before the
  -- batch (the row's new count less the batch's additions) plus its rank among the batch's releases to that row.
  SELECT g.max_received, g.seen_version, n.version,
         n.received - count(*) OVER (PARTITION BY n.participant_id, n.research_field, n.kind)
           + row_number() OVER (PARTITION BY n.participant_id, n.research_field, n.kind ORDER BY g.ord) AS received
    FROM granted g JOIN datasets d ON d.id = g.dataset_id
    JOIN received n ON n.participant_id = g.consumer_id AND n.research_field = g.research_field AND n.kind = d.kind
   WHERE g.provider_id <> g.consumer_id
)` : ''}
SELECT i.fresh, i.prior, ${ruled ? 'true' : 'i.ruled'} AS ruled, i.revoked_at, i.status, i.roles, g.invocation AS invocations_used, g.max_invocations, j.created_at${ruled ? `,
       (SELECT bool_and(((a.max_received IS NULL OR a.received <= a.max_received) AND (a.seen_version IS NULL OR a.version = a.seen_version))
                        OR tds_reciprocity_changed(a.received, a.max_received, a.version, a.seen_version)) FROM after_each a) AS unchanged` : ''}
  FROM items i LEFT JOIN granted g ON g.ord = i.ord LEFT JOIN job j ON j.id = g.job_id
 ORDER BY i.ord`;
}

export const RELEASE_BATCH_AS_CALLER = releaseBatchSql(false);

/**
 * RELEASE_AS_CALLER_RULED for several authorizations at once: as
 * RELEASE_BATCH_AS_CALLER, with RELEASE_AS_CALLER_RULED's three more values
 * per request, $18 the ids of the rules its decision evaluated (text, comma
 * separated: arrays of arrays must be rectangular), $19 the most its
 * consumer may have received after it (NULL: no bound) and $20 the version
 * its decision saw (NULL: not checked). Each released request is checked as
 * it would be alone, in request order: its consumer's received count right
 * after it must not pass its bound, and the row's version must be the one it
 * saw; one failed check aborts the whole statement with TDS01 (the batcher
 * then runs each request alone, and each decides again on a failed check).
 */
export const RELEASE_BATCH_AS_CALLER_RULED = releaseBatchSql(true);

const RULES_NOW = rulesNowSql('$1');

const RULED_FACTS = factsSql('$2::uuid', '(SELECT f FROM fields)::text[]');

/**
 * The one read of a release under reciprocity rules on a contract whose
 * unchanging facts the process keeps: the rules governing its dataset now,
 * the requester's reciprocity facts (datasets, counts, database time) in
 * those rules' fields and the dataset's own, and the version of its received
 * row of the dataset's field and kind. $1 contract, $2 requester.
 */
export const READ_RULED_FACTS = `
WITH rules AS (${RULES_NOW}),
released AS (SELECT d.research_field, d.kind FROM contracts c JOIN datasets d ON d.id = c.dataset_id WHERE c.id = $1),
fields AS (SELECT ARRAY(SELECT research_field FROM rules UNION SELECT research_field FROM released) AS f),
${RULED_FACTS.ctes}
SELECT (SELECT coalesce(json_agg(json_build_object('id', r.id, 'scope', r.scope, 'body', r.body, 'created_by', r.created_by, 'created_at', r.created_at) ORDER BY r.created_at, r.id), '[]'::json)
          FROM rules r) AS rules,
       (SELECT ${releasedVersionSql('$2::uuid', 'x.research_field', 'x.kind')} FROM released x) AS released_version,
       ${RULED_FACTS.columns}`;

/** The one row of READ_RULED_FACTS. */
export type RuledFacts = FactsRow & { rules: ReleaseFacts['rules']; released_version: string };

/**
 * The whole authorization of one POST /v1/jobs under reciprocity rules whose
 * decision was made on READ_RULED_FACTS, no lock held in between:
 * RELEASE_AS_CALLER's $1..$17, plus $18 the ids of the rules the decision
 * evaluated, $19 the most the consumer may have received in the dataset's
 * field and kind after this release (NULL: no give-to-get bound) and $20 the
 * version of that received row the decision saw. It releases only if,
 * besides RELEASE_AS_CALLER's own conditions, the governing rules are still
 * exactly those (else nothing released); its addition to
 * the received row, under that row's lock, aborts the statement with TDS01
 * past the bound (concurrent releases took the rest) or when the version
 * moved (a withdrawal committed meanwhile). Either way the caller decides
 * again on the reference path.
 */
export const RELEASE_AS_CALLER_RULED = `
WITH used AS (
  INSERT INTO used_tokens (issuer, jti, expires_at) VALUES ($2::uuid::text, $15, $16) ON CONFLICT DO NOTHING RETURNING 1
), who AS (
  SELECT k.revoked_at, p.status, p.roles FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = $17 AND k.participant_id = $2
), rules_now AS (${RULES_NOW}
), gate AS (
  SELECT EXISTS (SELECT 1 FROM used) AS fresh,
         EXISTS (SELECT 1 FROM who WHERE who.revoked_at IS NULL AND who.status = 'active' AND 'consumer' = ANY(who.roles)) AS caller_ok,
         ($6::text IS NOT NULL AND EXISTS (SELECT 1 FROM jobs j WHERE j.consumer_id = $2 AND j.idempotency_key = $6::text)) AS prior,
         ((SELECT count(*) FROM rules_now) = cardinality($18::uuid[]) AND NOT EXISTS (SELECT 1 FROM rules_now n WHERE n.id <> ALL($18::uuid[]))) AS same_rules
), ${releaseWrite('(SELECT g.fresh AND g.caller_ok AND NOT g.prior AND g.same_rules FROM gate g)')}
SELECT g.fresh, g.prior, true AS ruled, w.revoked_at, w.status, w.roles, r.invocations_used, r.max_invocations, r.created_at,
       ${unchanged('$19::bigint', '$20::bigint')} AS unchanged
  FROM gate g LEFT JOIN who w ON true
  LEFT JOIN LATERAL (SELECT upd.invocations_used, upd.max_invocations, job.created_at FROM upd, job) r ON true`;

/** The one row of RELEASE_AS_CALLER and RELEASE_AS_CALLER_RULED. */
export interface CallerReleaseRow {
  fresh: boolean;
  prior: boolean;
  ruled: boolean;
  /** The key's state; status null when the kid is no longer the caller's (cannot happen: kids are immutable). */
  revoked_at: Date | null;
  status: 'pending' | 'active' | 'suspended' | null;
  roles: string[] | null;
  /** Null when nothing was released. */
  invocations_used: number | null;
  max_invocations: number | null;
  created_at: Date | null;
}

/** A data source or a transaction's manager. */
type On = DataSource | EntityManager;

/** READ_RELEASE_FACTS for one contract (prepared), or null when it does not exist. */
export async function readReleaseFacts(on: On, contractId: string): Promise<ReleaseFacts | null> {
  return (await preparedQuery<ReleaseFacts>(on, 'tds_release_facts', READ_RELEASE_FACTS, [contractId]))[0] ?? null;
}

/** RELEASE_AS_CALLER (prepared) with its 17 parameters. */
export async function releaseAsCaller(ds: DataSource, values: unknown[]): Promise<CallerReleaseRow> {
  return (await preparedQuery<CallerReleaseRow>(ds, 'tds_release_as_caller', RELEASE_AS_CALLER, values))[0]!;
}

/**
 * RELEASE_BATCH_AS_CALLER (prepared): `requests` are RELEASE_AS_CALLER's 17
 * values each; one row per request, in their order.
 */
export async function releaseBatchAsCaller(ds: DataSource, requests: unknown[][]): Promise<CallerReleaseRow[]> {
  return preparedQuery<CallerReleaseRow>(ds, 'tds_release_batch_as_caller', RELEASE_BATCH_AS_CALLER, [batchRows(requests)]);
}

/** Positions of the release values that are JSON (release, subjects, data, analysis): a batch carries them as JSON, not as text. */
export const BATCH_JSON_VALUES: readonly number[] = [7, 8, 9, 12];

/**
 * The batch statements' one parameter: every request's values, in request
 * order, as JSON (strings, nulls, numbers, the JSON values as they are; a
 * Date as its ISO 8601 UTC text).
 * A number must be a safe integer: JSON would turn NaN or Infinity into null,
 * which the statement would read as "no bound"; a JSON value must be an
 * object (or null), not its text, which the statement would store as a string.
 */
export function batchRows(requests: unknown[][]): string {
  for (const r of requests) {
    for (const v of r) if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new TypeError(`batch value ${v} is not a safe integer`);
    for (const i of BATCH_JSON_VALUES) if (r[i] != null && typeof r[i] !== 'object') throw new TypeError(`batch value ${i} must be a JSON object or null, not text`);
  }
  return JSON.stringify(requests);
}

/**
 * RELEASE_BATCH_AS_CALLER_RULED (prepared): `requests` are
 * RELEASE_AS_CALLER_RULED's 20 values each (the rule ids an array, sent as
 * one comma-separated text); one row per request, in their order.
 */
export async function releaseBatchAsCallerRuled(ds: DataSource, requests: unknown[][]): Promise<CallerReleaseRow[]> {
  const rows = requests.map((r) => r.map((v, i) => (i === 17 ? (v as string[]).join(',') : v)));
  return preparedQuery<CallerReleaseRow>(ds, 'tds_release_batch_as_caller_ruled', RELEASE_BATCH_AS_CALLER_RULED, [batchRows(rows)]);
}

/** READ_RULED_FACTS (prepared) for a contract and requester. */
export async function readRuledFacts(ds: DataSource, contractId: string, requesterId: string): Promise<RuledFacts> {
  return (await preparedQuery<RuledFacts>(ds, 'tds_ruled_facts', READ_RULED_FACTS, [contractId, requesterId]))[0]!;
}

/** RELEASE_AS_CALLER_RULED (prepared) with its 20 parameters. */
export async function releaseAsCallerRuled(ds: DataSource, values: unknown[]): Promise<CallerReleaseRow> {
  return (await preparedQuery<CallerReleaseRow>(ds, 'tds_release_as_caller_ruled', RELEASE_AS_CALLER_RULED, values))[0]!;
}

/** RELEASE with its 16 parameters: prepared on the data source, or plain inside tx (under rules); null when nothing was released. */
export async function release(on: On, values: unknown[]): Promise<ReleaseRow | null> {
  const rows = 'manager' in on ? await preparedQuery<ReleaseRow>(on, 'tds_release', RELEASE, values) : ((await on.query(RELEASE, values)) as ReleaseRow[]);
  return rows[0] ?? null;
}

/** Name of the unique index that makes an Idempotency-Key single-use per consumer. */
export const IDEMPOTENCY_INDEX = 'jobs_idempotency';
