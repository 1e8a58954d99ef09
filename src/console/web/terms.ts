/**
 * A contract's terms in words, as a signer must see them before signing:
 * party names, dataset title, purpose labels from the shipped vocabulary,
 * invocations, window, price, access and output policy. The canonical
 * string that is signed is recomputed here from the shown document (the same
 * canonicalizeContract the CLI uses), and a mismatch with the server's is
 * refused before anything is signed.
 */
import { canonicalizeContract } from '../../agreements/contract-document.js';
import type { ContractView } from '../../agreements/contract-view.js';
import { PURPOSE_LABELS, outputPolicyPhrases, purposeText, termsInWords } from '../../agreements/terms-text.js';
import { secretKeyFromJwk, sign } from '../../crypto/ed25519.js';
import { toBase64Url, utf8 } from '../../crypto/sha256.js';
import { h, when } from './dom.js';
import type { Signer } from '../../client/request-token.js';

/** Every purpose code with its label, for pickers. */
export const PURPOSES = PURPOSE_LABELS;
export { purposeText };

/** An output policy in words (the phrases of the signed terms, joined). */
export function policyText(p: Record<string, unknown> | undefined | null): string {
  if (!p) return 'none';
  return outputPolicyPhrases(p).join('; ') || 'defaults';
}

/** Names looked up for the ids a document carries (participants, dataset title). */
export interface Names {
  participants: Record<string, string>;
  datasets: Record<string, string>;
}

// Labels of termsInWords rows as the page shows them.
const LABELS: Record<string, string> = {
  provider: 'Provider', consumer: 'Consumer', dataset: 'Dataset', 'dataset sha256': 'Dataset SHA-256', purposes: 'Purposes', invocations: 'Invocations',
  valid: 'Valid', price: 'Price', access: 'Access', 'output policy': 'Output policy', 'privacy loss bound': 'Privacy loss bound', 'reciprocity rules': 'Reciprocity rules',
};

/**
 * The terms as a definition list: the same words as the `tds contract sign`
 * prompt (terms-text.ts). Names and title come from the signed document;
 * `names` (directory look-ups) only fill them for v1 documents, which lack them.
 */
export function termsView(c: ContractView, names: Names): HTMLElement {
  const d = c.document;
  const fallback = { provider: names.participants[d.provider.id], consumer: names.participants[d.consumer.id], datasetTitle: names.datasets[d.dataset.id] };
  const rows: Array<[string, Node | string]> = [['Contract', `${c.id} — state ${c.state}`]];
  for (const [label, text] of termsInWords(d, fallback)) {
    if (label === 'reviewers') continue; // shown with their names below the output policy
    let value: Node | string;
    if (label === 'valid') value = h('span', {}, 'from ', when(d.validFrom), ' until ', when(d.validUntil));
    else if (label === 'dataset sha256') value = h('code', {}, d.dataset.sha256);
    else if (label === 'invocations' && c.invocationsUsed !== undefined) value = `${String(text)} (${c.invocationsUsed} used, ${c.invocationsRemaining} left)`;
    else value = Array.isArray(text) ? h('ul', {}, ...text.map((t) => h('li', {}, t))) : text;
    rows.push([LABELS[label] ?? label, value]);
    if (label === 'output policy') {
      const reviewers = (d.outputPolicy as { review?: { reviewers?: string[] } } | undefined)?.review?.reviewers ?? [];
      if (reviewers.length > 0) rows.push(['Reviewers', h('ul', {}, ...reviewers.map((r) => h('li', {}, `${names.participants[r] ?? 'unknown participant'} (${r})`)))]);
    }
  }
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
