/**
 * A contract's terms in words, as a signer must see them before signing:
 * party names, dataset title, purpose labels from the shipped vocabulary,
 * invocations, window, price, access and output policy. The canonical
 * string that is signed is recomputed here from the shown document (the same
 * canonicalizeContract the CLI uses), and a mismatch with the server's is
 * refused before anything is signed.
 */
import vocabulary from '../../../contracts/purposes.json';
import { canonicalizeContract, type ContractDocument } from '../../agreements/contract-document.js';
import { secretKeyFromJwk, sign } from '../../crypto/ed25519.js';
import { toBase64Url, utf8 } from '../../crypto/sha256.js';
import { h, when } from './dom.js';
import type { Signer } from '../../client/request-token.js';

const labels = new Map<string, string>((vocabulary as { purposes: Array<{ code: string; label: string; shorthand: string | null }> }).purposes.map((p) => [p.code, p.shorthand ? `${p.label} (${p.shorthand})` : p.label]));

/** Every purpose code with its label, for pickers. */
export const PURPOSES: Array<{ code: string; label: string }> = [...labels].map(([code, label]) => ({ code, label }));

/** "general research use (GRU), DUO:0000042". */
export function purposeText(code: string): string {
  const label = labels.get(code);
  return label ? `${label} — ${code}` : `${code} (not in the vocabulary)`;
}

/** The contract as the API returns it. */
export interface ContractView {
  id: string;
  state: string;
  document: ContractDocument & Record<string, unknown>;
  canonical?: string;
  digest?: string;
  signatures: Array<{ participantId: string; kid: string; signature: string; party?: string; signedAt?: string }>;
  invocationsUsed?: number;
  invocationsRemaining?: number;
}

/** Names looked up for the ids a document carries (participants, dataset title). */
export interface Names {
  participants: Record<string, string>;
  datasets: Record<string, string>;
}

/** An output policy in words. */
export function policyText(p: Record<string, unknown> | undefined | null): string {
  if (!p) return 'none';
  const parts: string[] = [];
  if (p.minCellCount !== undefined) parts.push(`groups under ${String(p.minCellCount)} rows are not released`);
  if (p.roundTo !== undefined) parts.push(`counts rounded to multiples of ${String(p.roundTo)}`);
  const dom = p.dominance as { n?: number; k?: number } | undefined;
  const pct = (x: number) => `${Number((x * 100).toPrecision(6))} %`;
  if (dom) parts.push(`a sum or mean is suppressed when its ${dom.n} largest contributions make up ${pct(Number(dom.k))} or more of it`);
  if (p.pRatio !== undefined) parts.push(`a sum or mean is suppressed when the rest after its two largest contributions is under ${pct(Number(p.pRatio))} of the largest (p-ratio)`);
  if (p.minResidualDf !== undefined) parts.push(`regressions need ${String(p.minResidualDf)} residual degrees of freedom`);
  if (p.allowExtremes !== undefined) parts.push(p.allowExtremes ? 'min/max allowed' : 'no min/max');
  if (p.maxRows !== undefined) parts.push(`at most ${String(p.maxRows)} result rows`);
  const noise = p.noise as { mechanism?: string; epsilon?: number } | null | undefined;
  if (noise) parts.push(`${noise.mechanism} noise, ε = ${noise.epsilon}`);
  const review = p.review as { approvals?: number; reviewers?: string[] } | undefined;
  if (review && (review.approvals ?? 0) > 0) parts.push(`${review.approvals} of ${review.reviewers?.length ?? 0} named reviewer(s) must approve a result before release`);
  else if (review) parts.push('no output review');
  return parts.join('; ') || 'defaults';
}

/** The terms as a definition list. */
export function termsView(c: ContractView, names: Names): HTMLElement {
  const d = c.document;
  // Names the document carries are part of what is signed; the directory's are the fallback.
  const person = (p: { id: string; kid: string; name?: unknown }) => `${typeof p.name === 'string' ? p.name : names.participants[p.id] ?? 'unknown participant'} (${p.id}, key ${p.kid})`;
  const datasetName = (d.dataset as { title?: unknown }).title;
  const price = d.price as { perInvocation: number | string; currency: string } | null | undefined;
  const rows: Array<[string, Node | string]> = [
    ['Contract', `${c.id} — state ${c.state}`],
    ['Provider', person(d.provider)],
    ['Consumer', person(d.consumer)],
    ['Dataset', `${typeof datasetName === 'string' ? datasetName : names.datasets[d.dataset.id] ?? 'untitled'} (${d.dataset.id}, ${d.dataset.kind} data in ${d.dataset.researchField})`],
    ['Dataset SHA-256', h('code', {}, d.dataset.sha256)],
    ['Purposes', h('ul', {}, ...d.purposes.map((p) => h('li', {}, purposeText(p))))],
    ['Invocations', `at most ${d.maxInvocations}${c.invocationsUsed !== undefined ? ` (${c.invocationsUsed} used, ${c.invocationsRemaining} left)` : ''}`],
    ['Valid', h('span', {}, 'from ', when(d.validFrom), ' until ', when(d.validUntil))],
    ['Price', price ? `${price.perInvocation} ${price.currency} per invocation` : 'free'],
  ];
  if (typeof d.access === 'string') rows.push(['Access', d.access === 'compute' ? 'compute at the provider: only disclosure-checked aggregates leave' : 'download of the dataset']);
  if (d.outputPolicy) rows.push(['Output policy', policyText(d.outputPolicy as unknown as Record<string, unknown>)]);
  const reviewers = (d.outputPolicy as { review?: { reviewers?: string[] } } | undefined)?.review?.reviewers ?? [];
  if (reviewers.length > 0) rows.push(['Reviewers', h('ul', {}, ...reviewers.map((r) => h('li', {}, `${names.participants[r] ?? 'unknown participant'} (${r})`)))]);
  if (d.privacyLossBound !== undefined) rows.push(['Privacy loss bound', `ε ≤ ${String(d.privacyLossBound)}`]);
  if (d.reciprocityRuleIds.length > 0) rows.push(['Reciprocity rules', d.reciprocityRuleIds.join(', ')]);
  rows.push(['Digest (SHA-256)', h('code', {}, canonicalizeContract(d).digest)]);
  rows.push(['Signatures', c.signatures.length === 0 ? 'none yet' : h('ul', {}, ...c.signatures.map((s) => h('li', {}, `${names.participants[s.participantId] ?? s.participantId} with key ${s.kid}`)))]);
  return h('dl', { class: 'terms', id: 'contract-terms' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/**
 * Sign a contract as the CLI does: recompute the RFC 8785 string from the
 * document shown, refuse when the service's canonical string or digest
 * differs, and sign its UTF-8 bytes with Ed25519 (base64url).
 */
export function signContractDocument(c: ContractView, s: Signer): { kid: string; signature: string } {
  const { canonical, digest } = canonicalizeContract(c.document);
  if (c.canonical !== undefined && c.canonical !== canonical) throw new Error('the service\'s canonical string is not the document shown: refusing to sign');
  if (c.digest !== undefined && c.digest !== digest) throw new Error('the service\'s digest is not the digest of the document shown: refusing to sign');
  return { kid: s.kid, signature: toBase64Url(sign(utf8(canonical), secretKeyFromJwk(s.privateJwk))) };
}
