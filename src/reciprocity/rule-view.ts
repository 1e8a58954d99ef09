/**
 * Reciprocity rules and standing as the API shows them (POST/GET
 * /v1/reciprocity-rules, GET /v1/reciprocity/standing): one declaration for
 * the service, which builds them (reciprocity.service.ts), and the client and
 * the CLI, which read them. Types only.
 */
import type { ReciprocityRuleV1 } from '../generated/contracts.js';
import type { DatasetKind, RuleOutcome } from './evaluate-rules.js';

/** Body of a rule (already schema-checked): the type generated from reciprocity-rule.v1. */
export type RuleInput = ReciprocityRuleV1;

/** A stored rule: its body plus id, scope (space-wide, or for the offers that name it), creator and time. */
export type RuleView = RuleInput & {
  id: string;
  scope: 'space' | 'offer';
  createdBy: string;
  createdAt: string;
};

/** Release counts of a field as standing shows them. */
export interface ReleaseTally { receivedFromOthers: number; givenToOthers: number }

/** What a next release would be told: allowed or not, and in words what one more needs. */
export interface NextRelease { authorized: boolean; needs: string }

/** GET /v1/reciprocity/standing: what the caller has shared in a field and what its next release would be told. */
export interface Standing {
  participantId: string;
  researchField: string;
  kind?: DatasetKind;
  contractId?: string;
  shared: Array<{ id: string; kind: DatasetKind; publishedAt: string; contributed: boolean }>;
  withheld: Array<{ id: string; kind: DatasetKind; withdrawn: boolean; hasActiveOffer: boolean }>;
  releases: ReleaseTally;
  releasesByKind: Record<DatasetKind, ReleaseTally>;
  mayAccess: boolean;
  nextRelease: NextRelease & { byKind?: Record<DatasetKind, NextRelease> };
  rules: Array<RuleOutcome & { rule: RuleView | undefined }>;
  note: string;
  counting: string;
}
