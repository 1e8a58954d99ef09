/**
 * JSON Schemas of the API's answers, for the OpenAPI document's
 * components/schemas (request schemas come from contracts/). They list the
 * fields a client may rely on and their types; further fields may appear
 * (additions are not breaking), so additionalProperties stays open. API tests
 * validate every answer they receive against these (test/helpers/openapi-check.ts).
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };
const nstr = { type: ['string', 'null'] };
const time = { type: 'string', format: 'date-time' };
const ntime = { type: ['string', 'null'], format: 'date-time' };
const int = { type: 'integer', minimum: 0 };
const strs = { type: 'array', items: str };
const b64s = { type: 'array', items: str };
const page = (item: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: nstr },
});

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
      id: str, providerId: str, providerName: str, title: str, description: str, researchField: str, kind: { enum: ['raw', 'insight'] },
      distribution: ref('Distribution'), license: nstr, status: str, publishedAt: time, withdrawnAt: ntime,
    },
  },
  DatasetPage: page('Dataset'),
  Offer: {
    type: 'object',
    required: ['id', 'datasetId', 'providerId', 'purposes', 'maxInvocations', 'validFrom', 'validUntil', 'status', 'createdAt'],
    properties: { id: str, datasetId: str, providerId: str, purposes: strs, maxInvocations: int, validFrom: time, validUntil: time, reciprocityRuleIds: strs, status: str, createdAt: time },
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
    },
  },
  ContractSignature: { type: 'object', required: ['participantId', 'kid', 'signature'], properties: { participantId: str, party: str, kid: str, signature: str, signedAt: time } },
  Contract: {
    type: 'object',
    required: ['id', 'state', 'document', 'canonical', 'digest', 'signatures'],
    properties: {
      id: str, state: str, document: ref('ContractDocument'), canonical: str, digest: str, signatures: { type: 'array', items: ref('ContractSignature') },
      invocationsUsed: int, invocationsRemaining: int, revocationReason: nstr,
    },
  },
  ContractState: { type: 'object', required: ['id', 'state'], properties: { id: str, state: str } },
  PartyName: { type: 'object', required: ['id', 'name'], properties: { id: str, name: str } },
  ContractSummary: {
    type: 'object',
    required: [
      'id', 'state', 'access', 'digest', 'offerId', 'datasetId', 'datasetTitle', 'providerId', 'consumerId', 'provider', 'consumer', 'purposes',
      'maxInvocations', 'invocationsUsed', 'invocationsRemaining', 'validFrom', 'validUntil', 'createdAt',
    ],
    properties: {
      id: str, state: { enum: ['proposed', 'consumer_signed', 'active', 'exhausted', 'expired', 'revoked'] }, access: { enum: ['compute', 'download'] }, digest: str,
      offerId: str, datasetId: str, datasetTitle: str, providerId: str, consumerId: str, provider: ref('PartyName'), consumer: ref('PartyName'), purposes: strs,
      maxInvocations: int, invocationsUsed: int, invocationsRemaining: int, validFrom: time, validUntil: time, createdAt: time,
    },
  },
  ContractPage: page('ContractSummary'),
  Release: { type: 'object', required: ['url', 'sha256', 'byteSize', 'mediaType', 'expiresAt'], properties: { token: str, url: str, sha256: str, byteSize: int, mediaType: str, expiresAt: time } },
  Job: {
    type: 'object',
    required: ['id', 'state', 'contractId', 'datasetId'],
    properties: { id: str, state: str, contractId: str, datasetId: str, consumerId: str, providerId: str, purpose: str, release: ref('Release'), resultDigest: nstr, reason: nstr, createdAt: time, completedAt: ntime },
  },
  FailedJob: { type: 'object', required: ['id', 'state', 'reason', 'releaseConfirmed'], properties: { id: str, state: { const: 'failed' }, reason: str, releaseConfirmed: { type: 'boolean' } } },
  JobListItem: {
    allOf: [ref('Job')],
    type: 'object',
    required: ['datasetTitle', 'provider', 'consumer'],
    properties: { datasetTitle: nstr, provider: ref('JobParty'), consumer: ref('JobParty') },
  },
  JobParty: { type: 'object', required: ['id', 'name'], properties: { id: str, name: nstr } },
  JobPage: page('JobListItem'),
  ReciprocityRule: { type: 'object', required: ['id', 'scope', 'kind', 'researchField', 'createdBy', 'createdAt'], properties: { id: str, scope: str, kind: str, researchField: str, createdBy: str, createdAt: time } },
  RuleList: page('ReciprocityRule'),
  Standing: {
    type: 'object',
    required: ['researchField', 'shared', 'withheld', 'releases', 'mayAccess', 'rules'],
    properties: {
      participantId: str, researchField: str, shared: { type: 'array' }, withheld: { type: 'array' }, mayAccess: { type: 'boolean' },
      releases: { type: 'object', required: ['receivedFromOthers', 'givenToOthers'], properties: { receivedFromOthers: int, givenToOthers: int } },
      rules: { type: 'array', items: { type: 'object', required: ['ruleId', 'kind', 'holds'], properties: { ruleId: str, kind: str, holds: { type: 'boolean' }, evidence: strs, missing: str, needs: str, pending: strs } } },
      nextRelease: { type: 'object', required: ['authorized', 'needs'], properties: { authorized: { type: 'boolean' }, needs: str, byKind: { type: 'object' } } },
      contractId: str, counting: str,
    },
  },
  Attestation: { type: 'object', required: ['id', 'attestedAt'], properties: { id: str, attestedAt: time } },
  ServedEntry: { type: 'object', required: ['index', 'entry'], properties: { index: int, entry: ref('ledger-entry.v1'), leafHash: str, chainHash: str } },
  LedgerEntries: { type: 'object', required: ['treeSize', 'entries'], properties: { treeSize: int, entries: { type: 'array', items: ref('ServedEntry') } } },
  LedgerMine: {
    type: 'object',
    required: ['treeSize', 'checkpoint', 'entries'],
    properties: { treeSize: int, checkpoint: str, entries: { type: 'array', items: { type: 'object', required: ['index', 'entry', 'proof'], properties: { index: int, entry: ref('ledger-entry.v1'), leafHash: str, proof: b64s } } }, nextStart: { type: ['integer', 'null'] } },
  },
  InclusionProof: { type: 'object', required: ['index', 'treeSize', 'proof'], properties: { index: int, treeSize: int, leafHash: str, proof: b64s } },
  ConsistencyProof: { type: 'object', required: ['from', 'to', 'proof'], properties: { from: int, to: int, proof: b64s } },
  Settlement: { type: 'object' },
  Text: { type: 'string' },
  AnyObject: { type: 'object', description: 'answer schema still to be written' },
  ReleaseStatus: { type: 'object', required: ['jobId', 'releasable', 'expiresAt'], properties: { jobId: str, jti: nstr, releasable: { type: 'boolean' }, reason: nstr, expiresAt: time } },
  ConsoleConfig: { type: 'object', required: ['audience'], properties: { audience: str } },
};
