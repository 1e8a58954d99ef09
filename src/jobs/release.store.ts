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
 * `job.authorized`. One round trip per authorization.
 * Under reciprocity rules, `RELEASE` (the same write without the token and
 * gate) runs in a transaction that first takes the requester's
 * (requester, field) advisory locks and evaluates the rules (jobs.service.ts).
 * "The rules of a dataset" is the reciprocity store's one condition
 * (rulesOfDatasetCondition), not a copy. This is a deliberate exception to
 * "capabilities go through each other's services": those services own the
 * tables' meaning, this file only reads and gates them, and every contract,
 * dataset and party state it checks is re-checked inside the write's WHERE clause.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../db/prepared.js';
import { rulesOfDatasetCondition } from '../reciprocity/reciprocity.store.js';

// The ids of the rules the signed contract document's offer references, as uuid[] (offer rule ids are checked uuids).
const OFFER_RULE_IDS = `ARRAY(SELECT jsonb_array_elements_text(coalesce(cd.document->'reciprocityRuleIds', '[]'::jsonb))::uuid)`;

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
// The write shared by RELEASE and RELEASE_AS_CALLER; `gate` is an extra SQL condition on the counter UPDATE.
function releaseWrite(gate: string): string {
  return `upd AS (
  UPDATE contracts
     SET invocations_used = invocations_used + 1,
         state = CASE WHEN invocations_used + 1 = max_invocations THEN 'exhausted' ELSE state END,
         updated_at = clock_timestamp()
   WHERE id = $1 AND consumer_id = $2 AND state = 'active' AND invocations_used < max_invocations
     AND now() >= valid_from AND now() < valid_until
     AND EXISTS (SELECT 1 FROM datasets d WHERE d.id = contracts.dataset_id AND d.status = 'published')
     AND (SELECT count(*) FROM participants p WHERE p.id IN (contracts.consumer_id, contracts.provider_id) AND p.status = 'active') = 2
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
   CROSS JOIN LATERAL (VALUES
           (1, 'job.authorized', $9::jsonb,
            $10::jsonb || jsonb_build_object('invocation', upd.invocations_used, 'remaining', upd.max_invocations - upd.invocations_used)),
           (2, 'contract.exhausted',
            jsonb_build_object('contract', upd.id, 'dataset', upd.dataset_id, 'provider', upd.provider_id, 'consumer', upd.consumer_id),
            jsonb_build_object('invocationsUsed', upd.invocations_used))
         ) AS e(ord, kind, subjects, data)
   WHERE e.ord = 1 OR upd.invocations_used = upd.max_invocations
   ORDER BY e.ord
)`;
}

export const RELEASE = `
WITH ${releaseWrite('true')}
SELECT upd.invocations_used, upd.max_invocations, job.created_at FROM upd, job`;

/**
 * The whole authorization of one POST /v1/jobs on a dataset no reciprocity
 * rule governs, in one statement: RELEASE's parameters, plus $15 the token's
 * jti, $16 until when it is remembered, $17 the token's kid. The token id is
 * recorded whatever else happens (a refused request used its token too); the
 * release happens only when the token is fresh, the key unrevoked, the
 * caller active with role consumer, the Idempotency-Key unused by the caller
 * and no rule governs the dataset, besides RELEASE's own conditions. Always
 * one row: what the gate saw (fresh, the key's state, prior, ruled) and, when
 * released, the counts and the job's creation time (else nulls).
 * A concurrent retry with the same Idempotency-Key fails the whole statement
 * on the unique index (23505), token record included.
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
         EXISTS (SELECT 1 FROM contracts c JOIN datasets d ON d.id = c.dataset_id JOIN contract_documents cd ON cd.contract_id = c.id
                   JOIN reciprocity_rules r ON (${rulesOfDatasetCondition('d.research_field', 'd.kind', OFFER_RULE_IDS)})
                  WHERE c.id = $1) AS ruled
), ${releaseWrite('(SELECT g.fresh AND g.caller_ok AND NOT g.prior AND NOT g.ruled FROM gate g)')}
SELECT g.fresh, g.prior, g.ruled, w.revoked_at, w.status, w.roles, r.invocations_used, r.max_invocations, r.created_at
  FROM gate g LEFT JOIN who w ON true
  LEFT JOIN LATERAL (SELECT upd.invocations_used, upd.max_invocations, job.created_at FROM upd, job) r ON true`;

/** The one row of RELEASE_AS_CALLER. */
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

/** RELEASE with its 14 parameters: prepared on the data source, or plain inside tx (under rules). */
export async function release(on: On, values: unknown[]): Promise<Array<{ invocations_used: number; max_invocations: number; created_at: Date }>> {
  return 'manager' in on ? preparedQuery(on, 'tds_release', RELEASE, values) : (on.query(RELEASE, values) as Promise<Array<{ invocations_used: number; max_invocations: number; created_at: Date }>>);
}

/** Name of the unique index that makes an Idempotency-Key single-use per consumer. */
export const IDEMPOTENCY_INDEX = 'jobs_idempotency';
