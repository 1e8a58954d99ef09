/**
 * JSON Schemas of the API's answers, for the OpenAPI document's
 * components/schemas (request schemas come from contracts/, and an answer
 * that embeds one, such as a price, an output policy or an analysis, refers
 * to it). They list the fields a client may rely on and their types; further
 * fields may appear (additions are not breaking), so additionalProperties
 * stays open. A field is required when the service always sends it. API tests
 * validate every answer they receive against these (test/helpers/openapi-check.ts).
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });
const str = { type: 'string' };
const nstr = { type: ['string', 'null'] };
const time = { type: 'string', format: 'date-time' };
const ntime = { type: ['string', 'null'], format: 'date-time' };
const int = { type: 'integer', minimum: 0 };
const bool = { type: 'boolean' };
const strs = { type: 'array', items: str };
const b64s = { type: 'array', items: str };
const datasetKind = { enum: ['raw', 'insight'] };
const access = { enum: ['compute', 'download'] };
// The dataset's declared structure as published (dataset.v1's `schema`), null when none was given.
const datasetSchema = nullable(ref('dataset.v1/properties/schema'));
const page = (item: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: nstr },
});

/** Contract states (agreements/contract-view.ts): proposed -> consumer_signed -> active -> exhausted | expired | revoked. */
const CONTRACT_STATES = ['proposed', 'consumer_signed', 'active', 'exhausted', 'expired', 'revoked'];
/** Download job states (jobs/job-view.ts): authorized -> completed | failed | expired. */
const DOWNLOAD_JOB_STATES = ['authorized', 'completed', 'failed', 'expired'];
/** Compute job states (jobs/job.entity.ts): queued -> running -> completed | held | rejected | failed; held -> completed | rejected. */
const COMPUTE_JOB_STATES = ['queued', 'running', 'completed', 'held', 'rejected', 'failed'];

const JOB_COMMON = { id: str, contractId: str, datasetId: str, consumerId: str, providerId: str, purpose: str, resultDigest: nstr, createdAt: time, completedAt: ntime, invocationsUsed: int, invocationsRemaining: int };
const JOB_REQUIRED = ['id', 'state', 'access', 'contractId', 'datasetId', 'consumerId', 'providerId', 'purpose', 'resultDigest', 'createdAt', 'completedAt'];
const tally = { type: 'object', required: ['receivedFromOthers', 'givenToOthers'], properties: { receivedFromOthers: int, givenToOthers: int } };
const verdict = { type: 'object', required: ['authorized', 'needs'], properties: { authorized: bool, needs: str } };
const settlementParty = { type: 'object', required: ['party', 'amount', 'invocations'], properties: { party: str, amount: str, invocations: int } };

/** Answer schemas by component name. */
export const RESPONSE_SCHEMAS: Record<string, object> = {
  Health: { type: 'object', required: ['status'], properties: { status: str, database: str } },
  Jwks: {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: { type: 'object', required: ['kty', 'kid'], properties: { kty: str, crv: str, x: str, kid: str, use: str, alg: str } } } },
  },
  OpenApiDocument: { type: 'object', required: ['openapi', 'paths'], properties: { openapi: str, paths: { type: 'object' } } },
  ParticipantKey: { type: 'object', required: ['kid', 'publicKeyJwk', 'createdAt', 'revokedAt'], properties: { kid: str, publicKeyJwk: ref('public-jwk.v1'), createdAt: time, revokedAt: ntime } },
  Participant: {
    type: 'object',
    required: ['id', 'name', 'roles', 'status', 'kid', 'keys', 'createdAt'],
    properties: {
      id: str, name: str, roles: strs, status: { enum: ['pending', 'active', 'suspended'] }, organization: nstr, contact: nstr, kid: str,
      keys: { type: 'array', items: ref('ParticipantKey') }, createdAt: time,
    },
  },
  ParticipantPage: page('Participant'),
  Distribution: { type: 'object', required: ['url', 'sha256', 'byteSize', 'mediaType'], properties: { url: str, sha256: str, byteSize: int, mediaType: str } },
  Dataset: {
    type: 'object',
    required: ['id', 'providerId', 'title', 'researchField', 'kind', 'distribution', 'status', 'publishedAt'],
    properties: {
      id: str, providerId: str, providerName: str, title: str, description: str, researchField: str, kind: datasetKind,
      distribution: ref('Distribution'), license: nstr, schema: datasetSchema, status: { enum: ['published', 'withdrawn'] }, publishedAt: time, withdrawnAt: ntime,
    },
  },
  DatasetPage: page('Dataset'),
  Offer: {
    type: 'object',
    required: ['id', 'datasetId', 'providerId', 'purposes', 'maxInvocations', 'validFrom', 'validUntil', 'status', 'createdAt'],
    properties: {
      id: str, datasetId: str, providerId: str, purposes: strs, maxInvocations: int, validFrom: time, validUntil: time, reciprocityRuleIds: strs,
      price: { ...nullable(ref('price.v1')), description: 'null: free' }, status: { enum: ['active', 'withdrawn'] }, access,
      outputPolicy: { ...nullable(ref('output-policy.v1')), description: 'compute offers: the policy with every default filled in; null for download offers' },
      createdAt: time,
    },
  },
  OfferList: page('Offer'),
  ContractParty: { type: 'object', required: ['id', 'kid'], properties: { id: str, kid: str, name: str } },
  ContractDocument: {
    type: 'object',
    required: ['id', 'type', 'dataset', 'consumer', 'provider', 'purposes', 'maxInvocations', 'validFrom', 'validUntil'],
    properties: {
      id: str, type: str, space: str, offerId: str, purposes: strs, maxInvocations: int, validFrom: time, validUntil: time, createdAt: time, reciprocityRuleIds: strs,
      consumer: ref('ContractParty'), provider: ref('ContractParty'),
      dataset: { type: 'object', required: ['id', 'sha256'], properties: { id: str, sha256: str, kind: str, researchField: str, title: str } },
      price: { ...nullable(ref('price.v1')), description: "the offer's price per invocation; null: free" }, access,
      outputPolicy: { ...ref('output-policy.v1'), description: "compute contracts: the offer's policy, every default filled in" },
      privacyLossBound: { type: 'number', description: 'compute contracts with noise: maxInvocations x epsilon' },
    },
  },
  ContractSignature: { type: 'object', required: ['participantId', 'kid', 'signature'], properties: { participantId: str, party: { enum: ['consumer', 'provider'] }, kid: str, signature: str, signedAt: time } },
  Contract: {
    type: 'object',
    required: ['id', 'state', 'document', 'canonical', 'digest', 'signatures', 'invocationsUsed', 'invocationsRemaining'],
    properties: {
      id: str, state: { enum: CONTRACT_STATES }, document: ref('ContractDocument'), canonical: str, digest: str, signatures: { type: 'array', items: ref('ContractSignature') },
      invocationsUsed: int, invocationsRemaining: int, revokeReason: { ...nstr, description: 'the reason given when the contract was revoked, otherwise null' },
    },
  },
  ContractState: { type: 'object', required: ['id', 'state'], properties: { id: str, state: { enum: CONTRACT_STATES } } },
  PartyName: { type: 'object', required: ['id', 'name'], properties: { id: str, name: str } },
  ContractSummary: {
    type: 'object',
    required: [
      'id', 'state', 'access', 'digest', 'offerId', 'datasetId', 'datasetTitle', 'providerId', 'consumerId', 'provider', 'consumer', 'purposes',
      'maxInvocations', 'invocationsUsed', 'invocationsRemaining', 'validFrom', 'validUntil', 'createdAt',
    ],
    properties: {
      id: str, state: { enum: CONTRACT_STATES }, access, digest: str,
      offerId: str, datasetId: str, datasetTitle: str, providerId: str, consumerId: str, provider: ref('PartyName'), consumer: ref('PartyName'), purposes: strs,
      maxInvocations: int, invocationsUsed: int, invocationsRemaining: int, validFrom: time, validUntil: time, createdAt: time,
    },
  },
  ContractPage: page('ContractSummary'),
  Release: {
    type: 'object',
    description: 'the release of a download job; `token` only in answers to its consumer',
    required: ['url', 'sha256', 'byteSize', 'mediaType', 'expiresAt'],
    properties: { token: str, url: str, sha256: str, byteSize: int, mediaType: str, expiresAt: time },
  },
  ConsumerRelease: { allOf: [ref('Release')], type: 'object', required: ['token'], properties: { token: { type: 'string', description: 'the release token (JWT signed by the service, key in /.well-known/jwks.json)' } } },
  DownloadJob: {
    type: 'object',
    required: [...JOB_REQUIRED, 'release'],
    properties: { ...JOB_COMMON, state: { enum: DOWNLOAD_JOB_STATES }, access: { const: 'download' }, release: ref('Release'), reason: str },
  },
  ConsumerDownloadJob: { allOf: [ref('DownloadJob')], type: 'object', required: ['release'], properties: { release: ref('ConsumerRelease') } },
  ComputeJob: {
    type: 'object',
    required: [...JOB_REQUIRED, 'analysis', 'analysisDigest', 'leaseUntil', 'reason'],
    properties: {
      ...JOB_COMMON, state: { enum: COMPUTE_JOB_STATES }, access: { const: 'compute' }, analysis: ref('analysis.v1'), analysisDigest: str,
      leaseUntil: { ...ntime, description: 'while running: until when the claiming data node holds the job' }, reason: { ...nstr, description: 'rejected or failed: the code saying why' },
    },
  },
  Job: {
    description: 'a download job (with its release) or a compute job (with its analysis)',
    oneOf: [ref('DownloadJob'), ref('ComputeJob')],
    discriminator: { propertyName: 'access', mapping: { download: '#/components/schemas/DownloadJob', compute: '#/components/schemas/ComputeJob' } },
  },
  ConsumerJob: {
    description: "a job as its consumer sees it: a download job's release carries the token",
    oneOf: [ref('ConsumerDownloadJob'), ref('ComputeJob')],
    discriminator: { propertyName: 'access', mapping: { download: '#/components/schemas/ConsumerDownloadJob', compute: '#/components/schemas/ComputeJob' } },
  },
  FailedJob: { type: 'object', required: ['id', 'state', 'reason', 'releaseConfirmed'], properties: { id: str, state: { const: 'failed' }, reason: str, releaseConfirmed: bool } },
  JobListItem: {
    allOf: [ref('Job')],
    type: 'object',
    required: ['datasetTitle', 'provider', 'consumer'],
    properties: { datasetTitle: nstr, provider: ref('JobParty'), consumer: ref('JobParty') },
  },
  JobParty: { type: 'object', required: ['id', 'name'], properties: { id: str, name: nstr } },
  JobPage: page('JobListItem'),
  ClaimedJob: {
    type: 'object',
    required: ['id', 'state', 'analysis', 'analysisDigest', 'purpose', 'contractId', 'datasetId', 'document', 'contract', 'dataset', 'leaseUntil', 'claims'],
    properties: {
      id: str, state: { const: 'running' }, analysis: ref('analysis.v1'), analysisDigest: str, purpose: str, contractId: str, datasetId: str,
      document: ref('ContractDocument'), contract: { ...ref('ContractDocument'), description: 'the same signed document as `document`' },
      dataset: { type: 'object', required: ['id', 'distribution', 'schema'], properties: { id: str, distribution: ref('Distribution'), schema: datasetSchema } },
      leaseUntil: time, claims: { type: 'integer', minimum: 1, description: 'how often the job was claimed (a re-claim after an expired lease counts)' },
    },
  },
  AcceptedResult: { allOf: [ref('ComputeJob')], type: 'object', required: ['resultDigest'], properties: { resultDigest: str } },
  JobResult: {
    type: 'object',
    description: 'the signed result (result, signature, kid) with its digest, status and the job state; operator and auditors get only resultDigest, status and state',
    required: ['resultDigest', 'status', 'state'],
    dependentRequired: { result: ['signature', 'kid'] },
    properties: { result: ref('result.v1'), signature: str, kid: str, resultDigest: str, status: { enum: ['pass', 'review', 'fail'] }, state: { enum: COMPUTE_JOB_STATES } },
  },
  ReviewedJob: { allOf: [ref('ComputeJob')], type: 'object', required: ['approvals', 'approvalsNeeded'], properties: { approvals: int, approvalsNeeded: int } },
  ReciprocityRule: {
    type: 'object',
    required: ['id', 'scope', 'kind', 'researchField', 'datasetKind', 'createdBy', 'createdAt'],
    properties: {
      id: str, scope: { enum: ['space', 'offer'] }, kind: str, researchField: str, datasetKind, minCount: int, minAgeDays: int, ratio: { type: 'number' }, allowance: int,
      description: str, createdBy: str, createdAt: time,
    },
  },
  RuleList: page('ReciprocityRule'),
  Standing: {
    type: 'object',
    required: ['participantId', 'researchField', 'shared', 'withheld', 'releases', 'releasesByKind', 'mayAccess', 'nextRelease', 'rules', 'note', 'counting'],
    properties: {
      participantId: str, researchField: str, kind: datasetKind, contractId: str,
      shared: { type: 'array', items: { type: 'object', required: ['id', 'kind', 'publishedAt', 'contributed'], properties: { id: str, kind: datasetKind, publishedAt: time, contributed: bool } } },
      withheld: { type: 'array', items: { type: 'object', required: ['id', 'kind', 'withdrawn', 'hasActiveOffer'], properties: { id: str, kind: datasetKind, withdrawn: bool, hasActiveOffer: bool } } },
      mayAccess: bool, releases: tally,
      releasesByKind: { type: 'object', required: ['raw', 'insight'], properties: { raw: tally, insight: tally } },
      rules: {
        type: 'array',
        items: {
          type: 'object',
          required: ['ruleId', 'kind', 'researchField', 'holds', 'evidence', 'missing', 'rule'],
          properties: { ruleId: str, kind: str, researchField: str, holds: bool, evidence: strs, missing: str, needs: str, pending: strs, rule: ref('ReciprocityRule') },
        },
      },
      nextRelease: {
        type: 'object',
        required: ['authorized', 'needs'],
        properties: { authorized: bool, needs: str, byKind: { type: 'object', description: 'without kind: the verdict per dataset kind', required: ['raw', 'insight'], properties: { raw: verdict, insight: verdict } } },
      },
      note: str, counting: str,
    },
  },
  Attestation: { type: 'object', required: ['id', 'attestedAt'], properties: { id: str, attestedAt: time } },
  ServedEntry: { type: 'object', required: ['index', 'entry', 'leafHash', 'chainHash'], properties: { index: int, entry: ref('ledger-entry.v1'), leafHash: str, chainHash: str } },
  ProvenEntry: { allOf: [ref('ServedEntry')], type: 'object', required: ['proof'], properties: { proof: b64s } },
  LedgerEntries: { type: 'object', required: ['treeSize', 'entries'], properties: { treeSize: int, entries: { type: 'array', items: ref('ServedEntry') } } },
  LedgerMine: {
    type: 'object',
    required: ['treeSize', 'checkpoint', 'entries', 'nextStart'],
    properties: { treeSize: int, checkpoint: str, entries: { type: 'array', items: ref('ProvenEntry') }, nextStart: { ...int, description: 'where the next page starts' } },
  },
  InclusionProof: { type: 'object', required: ['index', 'treeSize', 'leafHash', 'proof'], properties: { index: int, treeSize: int, leafHash: str, proof: b64s } },
  ConsistencyProof: { type: 'object', required: ['from', 'to', 'proof'], properties: { from: int, to: int, proof: b64s } },
  Settlement: {
    type: 'object',
    required: ['from', 'to', 'treeSize', 'rootHash', 'balanced', 'currencies'],
    properties: {
      from: time, to: time, treeSize: int, rootHash: str, balanced: bool,
      currencies: {
        type: 'array',
        items: {
          type: 'object',
          required: ['currency', 'consumers', 'providers', 'consumersTotal', 'providersTotal', 'balanced'],
          properties: {
            currency: str, consumers: { type: 'array', description: 'what each consumer owes', items: settlementParty }, providers: { type: 'array', description: 'what each provider is owed', items: settlementParty },
            consumersTotal: str, providersTotal: str, balanced: bool,
          },
        },
      },
    },
  },
  Text: { type: 'string' },
  ReleaseStatus: { type: 'object', required: ['jobId', 'releasable', 'expiresAt'], properties: { jobId: str, jti: nstr, releasable: bool, reason: nstr, expiresAt: time } },
  ConsoleConfig: { type: 'object', required: ['audience'], properties: { audience: str } },
};
