/**
 * Who reviews a compute contract's results, read from its signed document:
 * the output policy with every default filled in, and whether a principal
 * is one of the reviewers it names. Pure.
 */
import { completeOutputPolicy, type OutputPolicy, type OutputPolicyInput } from '../agreements/output-policy.js';
import type { Principal } from '../principal.js';

/** The contract's output policy with defaults filled in (a document without one yields the strictest defaults). */
export function policyOf(document: Record<string, unknown>): OutputPolicy {
  return completeOutputPolicy((document.outputPolicy ?? {}) as OutputPolicyInput);
}

/** True when the principal may review this contract's results: role reviewer, named by the policy, not the consumer. */
export function isNamedReviewer(actor: Principal, document: Record<string, unknown>, consumerId: string): boolean {
  return actor.roles.includes('reviewer') && actor.participantId !== consumerId && policyOf(document).review.reviewers.includes(actor.participantId);
}
