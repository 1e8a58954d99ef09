/**
 * An offer as the API shows it (POST /v1/datasets/:id/offers, GET
 * /v1/offers/:id, GET /v1/datasets/:id/offers): one declaration for the
 * service, which builds it (`offerView` in offers.service.ts), and the CLI
 * and the console, which read it. Types only.
 */
import type { PriceV1 } from '../generated/contracts.js';
import type { Access, OutputPolicy } from './output-policy.js';

/** The terms an offer sets and every contract on it copies into its signed document. */
export interface OfferTerms {
  purposes: string[];
  maxInvocations: number;
  validFrom: string;
  validUntil: string;
  reciprocityRuleIds: string[];
  /** Exact decimal string in the currency's minor units ("12.50" EUR); null: free (statements show "0" in XXX, ISO 4217's "no currency"). */
  price: PriceV1 | null;
}

/** An offer as the API shows it. */
export interface OfferView extends OfferTerms {
  id: string;
  datasetId: string;
  providerId: string;
  status: 'active' | 'withdrawn';
  access: Access;
  /** Compute offers: the policy with every default filled in; null for download offers. */
  outputPolicy: OutputPolicy | null;
  createdAt: string;
}
