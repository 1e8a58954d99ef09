/**
 * Digital contracts: a consumer proposes from an offer, the service builds the
 * canonical document, consumer then provider sign it, and it becomes active.
 * Every transition is a ledger event in the same transaction. Invocations are
 * counted by the release statement in jobs/release.store.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { conflict, datasetWithdrawn, forbidden, invalidField, invalidSignature, invalidTransition, notFound, refused } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { databaseNow } from '../db/now.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { isUuid } from '../ids.js';
import type { DatasetsService } from '../datasets/datasets.service.js';
import type { ParticipantsService } from '../participants/participants.service.js';
import { ReciprocityService } from '../reciprocity/reciprocity.service.js';
import { OfferEntity } from './offer.entity.js';
import { ContractEntity, type ContractState } from './contract.entity.js';
import type { ContractSummary, ContractView } from './contract-view.js';
import { ContractDocumentEntity } from './contract-document.entity.js';
import { ContractSignatureEntity } from './contract-signature.entity.js';
import { expireDueContracts, insertProposedContract, listContracts, revokeContract, updateContractState, type ContractListRow } from './contracts.store.js';
import { decodeCursor, encodeCursor } from '../db/keyset-cursor.js';
import { defaultVocabulary, isPurposeAllowed } from './purpose-match.js';
import { storedPrice } from './offers.service.js';
import { completeOutputPolicy, privacyLossBound } from './output-policy.js';
import { CONTRACT_DOCUMENT_TYPE, canonicalizeContract, verifyContractSignature, type ContractDocument } from './contract-document.js';
import type { ContractProposalV1, ContractQueryV1 } from '../generated/contracts.js';

/** Body of a proposal (already schema-checked): the type generated from contract-proposal.v1. */
export type ProposalInput = ContractProposalV1;

/** GET /v1/contracts query (already schema-checked): the type generated from contract-query.v1. */
export type ContractQuery = ContractQueryV1 & { limit: number };

function summaryOf(r: ContractListRow): ContractSummary {
  return {
    id: r.id, state: r.state, access: r.access, digest: r.digest, offerId: r.offer_id, datasetId: r.dataset_id, datasetTitle: r.dataset_title,
    providerId: r.provider_id, consumerId: r.consumer_id, provider: { id: r.provider_id, name: r.provider_name }, consumer: { id: r.consumer_id, name: r.consumer_name },
    purposes: r.purposes, maxInvocations: r.max_invocations, invocationsUsed: r.invocations_used, invocationsRemaining: r.max_invocations - r.invocations_used,
    validFrom: r.valid_from.toISOString(), validUntil: r.valid_until.toISOString(), createdAt: r.created_at.toISOString(),
  };
}

/** The compute terms of a document: access, and for compute the offer's full policy (copied, never loosened) and privacy-loss bound. */
function computeTerms(offer: OfferEntity, maxInvocations: number): Pick<ContractDocument, 'access' | 'outputPolicy' | 'privacyLossBound'> {
  if (offer.access !== 'compute') return { access: 'download' };
  // Stored complete; completing again only guards a row written by hand (fail closed: the strictest defaults).
  const outputPolicy = completeOutputPolicy(offer.outputPolicy ?? {});
  const bound = privacyLossBound(outputPolicy, maxInvocations);
  return { access: 'compute', outputPolicy, ...(bound === null ? {} : { privacyLossBound: bound }) };
}

/**
 * The state a reader should see: a contract that is still open (proposed, consumer-signed or active) past
 * its window is expired even before the sweeper marks it, so it can be neither signed nor used.
 */
function effectiveState(c: ContractEntity, now: Date): ContractState {
  const open = c.state === 'active' || c.state === 'proposed' || c.state === 'consumer_signed';
  return open && now >= c.validUntil ? 'expired' : c.state;
}

/** Contract operations. */
export class ContractsService {
  constructor(
    private readonly ds: DataSource,
    private readonly participants: ParticipantsService,
    private readonly datasets: DatasetsService,
    private readonly reciprocity: ReciprocityService,
    private readonly space: string,
  ) {}

  /** Consumer: propose a contract within an offer's terms; returns the document to sign. */
  async propose(actor: Principal, input: ProposalInput): Promise<ContractView> {
    return inTransaction(this.ds, async (tx) => {
      // Body ids pass the schema's uuid format, which also admits a urn:uuid: prefix PostgreSQL refuses.
      const offer = isUuid(input.offerId) ? await tx.getRepository(OfferEntity).findOneBy({ id: input.offerId }) : null;
      if (!offer) throw notFound('offer', input.offerId);
      const dataset = await this.datasets.lockForShare(tx, offer.datasetId);
      if (dataset.status === 'withdrawn') throw datasetWithdrawn();
      if (offer.providerId === actor.participantId) throw forbidden('a participant cannot contract with itself');
      const now = await databaseNow(tx);
      if (offer.status !== 'active' || now >= offer.validUntil) throw refused('OFFER_NOT_ACTIVE', 'the offer is withdrawn or past its validity window');
      const vocab = defaultVocabulary();
      // An unknown code is narrower than nothing: it is refused like any purpose the offer does not allow.
      const notAllowed = input.purposes.filter((p) => !isPurposeAllowed(vocab, p, offer.purposes));
      if (notAllowed.length > 0) throw refused('PURPOSE_NOT_ALLOWED', `purpose(s) ${notAllowed.join(', ')} not allowed by the offer (${offer.purposes.join(', ')})`);
      if (input.maxInvocations > offer.maxInvocations) throw refused('TERMS_EXCEED_OFFER', `maxInvocations ${input.maxInvocations} exceeds the offer's ${offer.maxInvocations}`);
      const validFrom = input.validFrom ? new Date(input.validFrom) : new Date(Math.max(now.getTime(), offer.validFrom.getTime()));
      const validUntil = input.validUntil ? new Date(input.validUntil) : offer.validUntil;
      if (!(validUntil > validFrom)) throw invalidField('/validUntil', 'must be after validFrom');
      if (validFrom < offer.validFrom || validUntil > offer.validUntil) {
        throw refused('TERMS_EXCEED_OFFER', `the window must lie inside the offer's ${offer.validFrom.toISOString()} .. ${offer.validUntil.toISOString()}`);
      }
      const provider = await this.participants.contractParty(tx, offer.providerId);
      if (provider?.status !== 'active' || !provider.kid) throw refused('PARTICIPANT_SUSPENDED', 'the provider is not active');
      // The consumer is the authenticated caller (active, signing with actor.kid); only its name is read here.
      const consumer = await this.participants.contractParty(tx, actor.participantId);
      if (!consumer) throw notFound('participant', actor.participantId);
      const rules = await this.reciprocity.rulesFor(tx, dataset, offer.reciprocityRuleIds);
      ReciprocityService.enforce(await this.reciprocity.decide(tx, actor.participantId, rules));

      const id = randomUUID();
      const document: ContractDocument = {
        type: CONTRACT_DOCUMENT_TYPE,
        id,
        space: this.space,
        offerId: offer.id,
        // Names and title as registered now: what both parties read before signing is part of what they sign.
        dataset: { id: dataset.id, sha256: dataset.distribution.sha256, researchField: dataset.researchField, kind: dataset.kind, title: dataset.title },
        provider: { id: offer.providerId, kid: provider.kid, name: provider.name },
        consumer: { id: actor.participantId, kid: actor.kid, name: consumer.name },
        purposes: input.purposes,
        maxInvocations: input.maxInvocations,
        validFrom: validFrom.toISOString(),
        validUntil: validUntil.toISOString(),
        reciprocityRuleIds: offer.reciprocityRuleIds,
        price: storedPrice(offer),
        ...computeTerms(offer, input.maxInvocations),
        createdAt: now.toISOString(),
      };
      const { canonical, digest } = canonicalizeContract(document);
      await insertProposedContract(tx, {
        id, offerId: offer.id, datasetId: dataset.id, providerId: offer.providerId, consumerId: actor.participantId,
        purposes: input.purposes, maxInvocations: input.maxInvocations, validFrom, validUntil, document, canonical, digest,
      });
      await appendEvent(tx, {
        kind: 'contract.proposed',
        actor: actor.participantId,
        subjects: { contract: id, offer: offer.id, dataset: dataset.id, provider: offer.providerId, consumer: actor.participantId },
        data: { digest, purposes: input.purposes, maxInvocations: input.maxInvocations, validFrom: document.validFrom, validUntil: document.validUntil, price: document.price },
      });
      return this.view(tx, id);
    });
  }

  /** Consumer first, then provider: add a verified Ed25519 signature over the canonical bytes. */
  async sign(actor: Principal, id: string, body: { kid: string; signature: string }): Promise<{ id: string; state: ContractState }> {
    return inTransaction(this.ds, async (tx) => {
      const c = await this.lock(tx, id);
      const party = c.consumerId === actor.participantId ? 'consumer' : c.providerId === actor.participantId ? 'provider' : null;
      if (!party) throw forbidden('only the parties of a contract sign it');
      const state = effectiveState(c, await databaseNow(tx));
      if (state === 'revoked') throw refused('CONTRACT_REVOKED', 'the contract is revoked');
      if (state === 'expired') throw refused('CONTRACT_EXPIRED', 'the contract is past its validity window');
      const signedAlready = party === 'consumer' ? state !== 'proposed' : state === 'active' || state === 'exhausted';
      if (signedAlready) throw conflict('ALREADY_SIGNED', `the ${party} has already signed this contract`);
      if (party === 'provider' && state === 'proposed') throw conflict('SIGNATURE_OUT_OF_ORDER', 'the consumer signs first, then the provider');
      // The dataset at signing time, locked FOR SHARE so a withdrawal cannot interleave: no activation on a withdrawn dataset.
      const dataset = (await tx.query('SELECT status FROM datasets WHERE id = $1 FOR SHARE', [c.datasetId])) as Array<{ status: string }>;
      if (dataset[0]?.status !== 'published') throw datasetWithdrawn();
      const doc = await this.documentOf(tx, id);
      const named = doc.document[party];
      if (body.kid !== named.kid) throw invalidSignature(`the ${party} must sign with the key named in the document (${named.kid})`);
      // The named key must still be current when it signs (FOR SHARE: a concurrent rotation waits for this signature).
      const key = await this.participants.signingKeyOf(tx, actor.participantId, named.kid);
      if (key?.revokedAt) {
        throw conflict('SIGNING_KEY_ROTATED', `the key named in the document (${named.kid}) was rotated out; the consumer proposes again from the offer to get a document naming the current keys`);
      }
      if (!key || !verifyContractSignature(doc.canonical, body.signature, key.publicJwk)) {
        throw invalidSignature('the signature does not verify over the canonical bytes with the named key');
      }
      await tx.getRepository(ContractSignatureEntity).insert({ contractId: id, party, participantId: actor.participantId, kid: body.kid, signature: body.signature });
      const next: ContractState = party === 'consumer' ? 'consumer_signed' : 'active';
      await updateContractState(tx, id, next);
      const subjects = { contract: id, dataset: c.datasetId, provider: c.providerId, consumer: c.consumerId };
      await appendEvent(tx, { kind: 'contract.signed', actor: actor.participantId, subjects, data: { party, kid: body.kid, signature: body.signature, digest: doc.digest } });
      // The price rides along so a statement line can be recomputed from the party's own ledger entries alone.
      if (next === 'active') await appendEvent(tx, { kind: 'contract.activated', actor: actor.participantId, subjects, data: { digest: doc.digest, price: doc.document.price } });
      return { id, state: next };
    });
  }

  /** Provider of the contract or operator: revoke at once, with a reason. */
  async revoke(actor: Principal, id: string, reason: string): Promise<ContractView> {
    return inTransaction(this.ds, async (tx) => {
      const c = await this.lock(tx, id);
      if (c.providerId !== actor.participantId && !actor.roles.includes('operator')) throw forbidden('only the contract\'s provider or the operator can revoke it');
      if (!['proposed', 'consumer_signed', 'active'].includes(c.state)) throw invalidTransition('contract', c.state, 'revoke');
      await revokeContract(tx, id, reason);
      await appendEvent(tx, { kind: 'contract.revoked', actor: actor.participantId, subjects: { contract: id, dataset: c.datasetId, provider: c.providerId, consumer: c.consumerId }, data: { reason, from: c.state } });
      return this.view(tx, id);
    });
  }

  /** Parties, operator and auditors: document, signatures, state, used and remaining invocations. */
  async get(actor: Principal, id: string): Promise<ContractView> {
    const c = await this.ds.getRepository(ContractEntity).findOneBy({ id });
    if (!c) throw notFound('contract', id);
    const mayRead = c.consumerId === actor.participantId || c.providerId === actor.participantId || actor.roles.includes('operator') || actor.roles.includes('auditor');
    if (!mayRead) throw forbidden('only the parties, the operator and auditors may read this contract');
    return this.view(this.ds.manager, id);
  }

  /**
   * The caller's contracts, oldest first, keyset-paginated: `role` picks one
   * side (provider: on its offers; consumer: proposed by it); without it, every
   * contract the caller is a party of, and for the operator and auditors (who
   * may read any contract) every contract of the space.
   */
  async list(actor: Principal, q: ContractQuery): Promise<{ items: ContractSummary[]; nextCursor: string | null }> {
    // A limit the schema's coercion let through as Infinity (e.g. 1e400) is no page size.
    if (!Number.isSafeInteger(q.limit)) throw invalidField('/limit', 'must be an integer from 1 to 200');
    const readsAll = actor.roles.includes('operator') || actor.roles.includes('auditor');
    const scope = q.role ?? (readsAll ? 'all' : 'party');
    const rows = await listContracts(this.ds.manager, {
      scope, participantId: actor.participantId, state: q.state, limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page.map(summaryOf), nextCursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  /** The contract row locked FOR UPDATE in tx. */
  async lock(tx: EntityManager, id: string): Promise<ContractEntity> {
    const c = await tx.getRepository(ContractEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!c) throw notFound('contract', id);
    return c;
  }

  /** Mark contracts past their window as expired, each with its ledger event; returns how many. */
  async expireDue(): Promise<number> {
    return inTransaction(this.ds, async (tx) => {
      const expired = await expireDueContracts(tx);
      for (const r of expired) {
        await appendEvent(tx, { kind: 'contract.expired', actor: 'system', subjects: { contract: r.id, dataset: r.dataset_id, provider: r.provider_id, consumer: r.consumer_id }, data: {} });
      }
      return expired.length;
    });
  }

  private async documentOf(tx: EntityManager, id: string): Promise<{ document: ContractDocument; canonical: string; digest: string }> {
    const d = await tx.getRepository(ContractDocumentEntity).findOneByOrFail({ contractId: id });
    return { document: d.document as unknown as ContractDocument, canonical: d.canonical, digest: d.digest };
  }

  private async view(tx: EntityManager, id: string): Promise<ContractView> {
    const c = await tx.getRepository(ContractEntity).findOneByOrFail({ id });
    const doc = await this.documentOf(tx, id);
    const sigs = await tx.getRepository(ContractSignatureEntity).find({ where: { contractId: id }, order: { signedAt: 'ASC' } });
    return {
      id: c.id,
      state: effectiveState(c, await databaseNow(tx)),
      document: doc.document,
      canonical: doc.canonical,
      digest: doc.digest,
      signatures: sigs.map((s) => ({ participantId: s.participantId, party: s.party, kid: s.kid, signature: s.signature, signedAt: s.signedAt.toISOString() })),
      invocationsUsed: c.invocationsUsed,
      invocationsRemaining: c.maxInvocations - c.invocationsUsed,
      revokeReason: c.revokeReason,
    };
  }
}
