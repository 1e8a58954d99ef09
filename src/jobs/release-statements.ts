/**
 * The SQL of the release path, kept together because it is the hot path and
 * the heart of the exactly-k guarantee. It reads across contracts, datasets,
 * participants and rules in one statement, and writes the counter, the job
 * and the ledger events in ONE statement (data-modifying CTEs): a single
 * statement is atomic on its own, so without reciprocity rules the release
 * needs no explicit transaction and costs two round trips. Reciprocity is not
 * in this SQL: under rules the same RELEASE statement runs in a transaction
 * that first takes the requester's (requester, field) advisory locks and
 * evaluates the rules (jobs.service.ts). This is a deliberate exception to
 * "capabilities go through each other's services": those services own the
 * tables' meaning, this file only reads and gates them, and every contract,
 * dataset and party state it checks is re-checked inside the write's WHERE clause.
 */

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
         WHERE (r.scope = 'space' AND r.research_field = d.research_field AND r.dataset_kind = d.kind)
            OR r.id::text IN (SELECT jsonb_array_elements_text(coalesce(cd.document->'reciprocityRuleIds', '[]'::jsonb)))) AS rules
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
export const RELEASE = `
WITH upd AS (
  UPDATE contracts
     SET invocations_used = invocations_used + 1,
         state = CASE WHEN invocations_used + 1 = max_invocations THEN 'exhausted' ELSE state END,
         updated_at = clock_timestamp()
   WHERE id = $1 AND consumer_id = $2 AND state = 'active' AND invocations_used < max_invocations
     AND now() >= valid_from AND now() < valid_until
     AND EXISTS (SELECT 1 FROM datasets d WHERE d.id = contracts.dataset_id AND d.status = 'published')
     AND (SELECT count(*) FROM participants p WHERE p.id IN (contracts.consumer_id, contracts.provider_id) AND p.status = 'active') = 2
  RETURNING id, dataset_id, provider_id, consumer_id, invocations_used, max_invocations
), job AS (
  INSERT INTO jobs (id, contract_id, consumer_id, provider_id, dataset_id, research_field, purpose, state, idempotency_key, request_digest, release,
                    access, analysis, analysis_digest)
  SELECT $3, upd.id, upd.consumer_id, upd.provider_id, upd.dataset_id, $4, $5, $11, $6, $7, $8::jsonb, $12, $13::jsonb, $14 FROM upd
  RETURNING created_at
), authorized AS (
  INSERT INTO ledger_queue (kind, actor, subjects, data)
  SELECT 'job.authorized', $2, $9::jsonb,
         $10::jsonb || jsonb_build_object('invocation', upd.invocations_used, 'remaining', upd.max_invocations - upd.invocations_used)
    FROM upd, job
), exhausted AS (
  INSERT INTO ledger_queue (kind, actor, subjects, data)
  SELECT 'contract.exhausted', $2,
         jsonb_build_object('contract', upd.id, 'dataset', upd.dataset_id, 'provider', upd.provider_id, 'consumer', upd.consumer_id),
         jsonb_build_object('invocationsUsed', upd.invocations_used)
    FROM upd, job WHERE upd.invocations_used = upd.max_invocations
)
SELECT upd.invocations_used, upd.max_invocations, job.created_at FROM upd, job`;

/** Name of the unique index that makes an Idempotency-Key single-use per consumer. */
export const IDEMPOTENCY_INDEX = 'jobs_idempotency';
