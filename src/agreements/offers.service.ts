/**
 * Offers: a provider's standing terms on one of its datasets (purposes,
 * maximum invocations per contract, validity window, reciprocity rules,
 * price). Consumers propose contracts from them.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { datasetWithdrawn, invalidField, notFound, notOwner, validationFailed } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { databaseNow } from '../db/now.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import type { DatasetsService } from '../datasets/datasets.service.js';
import type { ReciprocityService } from '../reciprocity/reciprocity.service.js';
import { OfferEntity } from './offer.entity.js';
import { defaultVocabulary, unknownPurposes } from './purpose-match.js';
import { completeOutputPolicy, defaultAccess } from './output-policy.js';
import { checkComputeTerms } from './compute-terms.js';
import { amountFromNumber, amountProblem, normalizePrice } from '../money/money.js';
import { priceCurrencies } from '../money/currencies.js';
import type { OfferV1, PriceV1 } from '../generated/contracts.js';
import type { OfferView } from './offer-view.js';

/** Body of an offer (already schema-checked): the type generated from offer.v1. */
export type OfferInput = OfferV1;

/** Map a row to its API view. */
export function offerView(o: OfferEntity): OfferView {
  return {
    id: o.id,
    datasetId: o.datasetId,
    providerId: o.providerId,
    purposes: o.purposes,
    maxInvocations: o.maxInvocations,
    validFrom: o.validFrom.toISOString(),
    validUntil: o.validUntil.toISOString(),
    reciprocityRuleIds: o.reciprocityRuleIds,
    price: storedPrice(o),
    status: o.status,
    access: o.access,
    outputPolicy: o.outputPolicy,
    createdAt: o.createdAt.toISOString(),
  };
}

/** The price of an offer row (numeric read back as its exact decimal text), or null when free. */
export function storedPrice(o: { pricePerInvocation: string | null; currency: string | null }): PriceV1 | null {
  return o.pricePerInvocation === null || o.currency === null ? null : { perInvocation: o.pricePerInvocation, currency: o.currency };
}

function priceRefused(pointer: string, message: string): never {
  throw invalidField(pointer, message, `price: ${message}`);
}

/**
 * The exact price of an offer body, or null when free. `price` is checked
 * against the currency's ISO 4217 minor unit ("12.345" EUR, "1.5" JPY and
 * unknown codes are refused with a pointer). The legacy number
 * `pricePerInvocation` is accepted only when exact in minor units
 * (amountFromNumber), never together with `price`.
 */
export function priceOf(input: OfferInput): PriceV1 | null {
  const table = priceCurrencies();
  if (input.price !== undefined) {
    if (input.pricePerInvocation !== undefined || input.currency !== undefined) {
      priceRefused(input.pricePerInvocation !== undefined ? '/pricePerInvocation' : '/currency', 'send either price or the legacy pricePerInvocation/currency, not both');
    }
    const { perInvocation, currency } = input.price;
    if (table[currency] === undefined) priceRefused('/price/currency', `${currency} is not an ISO 4217 currency that can price an offer (see contracts/currencies.json)`);
    const amount = normalizePrice(table, perInvocation, currency);
    if (amount === null) priceRefused('/price/perInvocation', amountProblem(table, perInvocation, currency)!);
    return { perInvocation: amount, currency };
  }
  if (input.pricePerInvocation === undefined) {
    if (input.currency !== undefined) priceRefused('/currency', 'currency without a price: send price: {perInvocation, currency}');
    return null;
  }
  const currency = input.currency ?? 'EUR';
  if (table[currency] === undefined) priceRefused('/currency', `${currency} is not an ISO 4217 currency that can price an offer (see contracts/currencies.json)`);
  const read = amountFromNumber(table, input.pricePerInvocation, currency);
  if ('problem' in read) priceRefused('/pricePerInvocation', read.problem);
  return { perInvocation: read.amount, currency };
}

/** An offer without an explicit end runs this long. */
export const DEFAULT_OFFER_DAYS = 365;

/** Throw VALIDATION_FAILED (pointing at each unknown code) when an offer names a purpose outside the vocabulary. */
export function checkPurposesKnown(purposes: readonly string[]): void {
  const unknown = unknownPurposes(defaultVocabulary(), purposes);
  if (unknown.length > 0) {
    throw validationFailed(`unknown purpose code(s): ${unknown.join(', ')} (see contracts/purposes.json)`,
      unknown.map((u) => ({ pointer: `/purposes/${purposes.indexOf(u)}`, message: `${u} is not in the purpose vocabulary` })),
    );
  }
}

/** Offer operations. */
export class OffersService {
  constructor(
    private readonly ds: DataSource,
    private readonly datasets: DatasetsService,
    private readonly reciprocity: ReciprocityService,
  ) {}

  /** Owning provider: publish an offer on a published dataset. */
  async create(actor: Principal, datasetId: string, input: OfferInput): Promise<OfferView> {
    checkPurposesKnown(input.purposes);
    const price = priceOf(input);
    return inTransaction(this.ds, async (tx) => {
      // Lock the dataset (shared) so a concurrent withdrawal cannot slip in between check and insert.
      const d = await this.datasets.lockForShare(tx, datasetId);
      if (d.providerId !== actor.participantId) throw notOwner('only the providing participant can make offers on this dataset');
      if (d.status === 'withdrawn') throw datasetWithdrawn();
      const now = await databaseNow(tx);
      const validFrom = input.validFrom ? new Date(input.validFrom) : now;
      const validUntil = input.validUntil ? new Date(input.validUntil) : new Date(validFrom.getTime() + DEFAULT_OFFER_DAYS * 86_400_000);
      if (!(validUntil > validFrom)) throw invalidField('/validUntil', 'must be after validFrom');
      if (validUntil <= now) throw invalidField('/validUntil', 'is in the past');
      const ruleIds = input.reciprocityRuleIds ?? [];
      await this.reciprocity.checkReferencable(tx, actor, ruleIds);
      const access = input.access ?? defaultAccess(d.kind);
      if (access === 'download' && input.outputPolicy !== undefined) {
        throw invalidField('/outputPolicy', 'only with access "compute"', 'outputPolicy applies to compute offers only');
      }
      const outputPolicy = access === 'compute' ? completeOutputPolicy(input.outputPolicy) : null;
      if (outputPolicy) await checkComputeTerms(tx, d, outputPolicy, input.access === undefined);
      const repo = tx.getRepository(OfferEntity);
      const saved = await repo.save(
        repo.create({
          datasetId,
          providerId: actor.participantId,
          purposes: input.purposes,
          maxInvocations: input.maxInvocations,
          validFrom,
          validUntil,
          reciprocityRuleIds: ruleIds,
          pricePerInvocation: price?.perInvocation ?? null,
          currency: price?.currency ?? null,
          status: 'active',
          access,
          outputPolicy,
        }),
      );
      const o = await repo.findOneByOrFail({ id: saved.id });
      await appendEvent(tx, {
        kind: 'offer.published',
        actor: actor.participantId,
        subjects: { offer: o.id, dataset: datasetId },
        data: {
          purposes: o.purposes, maxInvocations: o.maxInvocations, validFrom: o.validFrom.toISOString(), validUntil: o.validUntil.toISOString(), reciprocityRuleIds: ruleIds, price,
          access, ...(outputPolicy ? { outputPolicy } : {}),
        },
      });
      return offerView(o);
    });
  }

  /** One offer. */
  async get(id: string, tx: EntityManager = this.ds.manager): Promise<OfferView> {
    const o = await tx.getRepository(OfferEntity).findOneBy({ id });
    if (!o) throw notFound('offer', id);
    return offerView(o);
  }

  /** Offers of a dataset, newest first. */
  async forDataset(datasetId: string): Promise<OfferView[]> {
    // An unknown dataset has no offer list at all: 404, not an empty page (the catalog's own answer for it).
    await this.datasets.get(datasetId);
    const rows = await this.ds.getRepository(OfferEntity).find({ where: { datasetId }, order: { createdAt: 'DESC' } });
    return rows.map(offerView);
  }
}
