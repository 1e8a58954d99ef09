/**
 * A contract's terms in words, as a signer must read them before signing:
 * the parties' and dataset's names, purpose labels from the shipped
 * vocabulary (not only codes), invocations, window, price, access mode and
 * output policy. One module for the `tds contract sign` prompt and the web
 * console, so both say the same thing about the same bytes. Pure: no I/O
 * beyond the JSON module import.
 */
import vocabulary from '../../contracts/purposes.json' with { type: 'json' };
import type { ContractDocument } from './contract-document.js';

const labels = new Map<string, string>(
  (vocabulary as { purposes: Array<{ code: string; label: string; shorthand: string | null }> }).purposes.map((p) => [p.code, p.shorthand ? `${p.label} (${p.shorthand})` : p.label]),
);

/** Every purpose code with its label, for pickers. */
export const PURPOSE_LABELS: ReadonlyArray<{ code: string; label: string }> = [...labels].map(([code, label]) => ({ code, label }));

/** "health or medical or biomedical research (HMB) — DUO:0000006"; an unknown code says so. */
export function purposeText(code: string): string {
  const label = labels.get(code);
  return label ? `${label} — ${code}` : `${code} (not in the vocabulary)`;
}

/** How the dataset is used, in words. */
export function accessText(access: string | undefined): string {
  if (access === 'compute') return 'compute at the provider: analyses run there, only disclosure-checked aggregates leave';
  if (access === 'download') return 'download: the dataset is released to the consumer, once per invocation';
  return access === undefined ? 'not stated (download)' : `${access} (unknown access mode)`;
}

/** The price per invocation, or "free". */
export function priceText(price: ContractDocument['price'] | undefined): string {
  return price ? `${price.perInvocation} ${price.currency} per invocation` : 'free';
}

/** Each rule of an output policy as one phrase ("groups under 10 rows are not released", ...). */
export function outputPolicyPhrases(p: Record<string, unknown> | null | undefined): string[] {
  if (!p) return [];
  const parts: string[] = [];
  if (p.minCellCount !== undefined) parts.push(`groups under ${String(p.minCellCount)} rows are not released`);
  if (p.roundTo !== undefined) parts.push(`counts rounded to multiples of ${String(p.roundTo)}`);
  const pct = (x: number) => `${Number((x * 100).toPrecision(6))} %`;
  const dom = p.dominance as { n?: number; k?: number } | undefined;
  if (dom) parts.push(`a sum or mean is suppressed when its ${dom.n} largest contributions make up ${pct(Number(dom.k))} or more of it`);
  if (p.pRatio !== undefined) parts.push(`a sum or mean is suppressed when the rest after its two largest contributions is under ${pct(Number(p.pRatio))} of the largest (p-ratio)`);
  if (p.minResidualDf !== undefined) parts.push(`regressions need at least ${String(p.minResidualDf)} residual degrees of freedom`);
  if (p.allowExtremes !== undefined) parts.push(p.allowExtremes ? 'min and max (one person\'s value) may be released' : 'no min or max (one person\'s value)');
  if (p.maxRows !== undefined) parts.push(`at most ${String(p.maxRows)} result rows`);
  const noise = p.noise as { mechanism?: string; epsilon?: number } | null | undefined;
  parts.push(noise ? `${noise.mechanism} noise on counts, epsilon ${noise.epsilon} per invocation` : 'no noise added');
  const review = p.review as { approvals?: number; reviewers?: string[] } | undefined;
  if (review && (review.approvals ?? 0) > 0) parts.push(`${review.approvals} of ${review.reviewers?.length ?? 0} named reviewer(s) must approve a result before release`);
  else if (review) parts.push('no output review');
  return parts;
}

/** A party as a person reads it: name (from the document), id and key. */
export function partyText(p: { id: string; kid: string; name?: string }, fallbackName?: string): string {
  const name = p.name ?? fallbackName;
  return `${name ?? '(no name in this document)'} — participant ${p.id}, key ${p.kid}`;
}

/** Names a v1 document lacks, looked up elsewhere (the console's directory reads); never used for v2 documents. */
export interface FallbackNames {
  provider?: string;
  consumer?: string;
  datasetTitle?: string;
}

/**
 * The terms of a document as [label, text] pairs, in the order a signer
 * should read them. Names and title come from the signed document itself;
 * `fallback` fills them only for v1 documents, which do not carry them.
 */
export function termsInWords(d: ContractDocument, fallback: FallbackNames = {}): Array<[label: string, text: string | string[]]> {
  const title = d.dataset.title ?? fallback.datasetTitle;
  const rows: Array<[string, string | string[]]> = [
    ['provider', partyText(d.provider, fallback.provider)],
    ['consumer', partyText(d.consumer, fallback.consumer)],
    ['dataset', `${title ?? '(no title in this document)'} — ${d.dataset.id}, ${d.dataset.kind} data in ${d.dataset.researchField}`],
    ['dataset sha256', d.dataset.sha256],
    ['purposes', d.purposes.map(purposeText)],
    ['invocations', `at most ${d.maxInvocations}`],
    ['valid', `from ${d.validFrom} until ${d.validUntil}`],
    ['price', priceText(d.price)],
    ['access', accessText(d.access)],
  ];
  if (d.access === 'compute' || d.outputPolicy) {
    const phrases = outputPolicyPhrases(d.outputPolicy as unknown as Record<string, unknown> | undefined);
    rows.push(['output policy', phrases.length > 0 ? phrases : ['none stated']]);
  }
  const reviewers = (d.outputPolicy as { review?: { reviewers?: string[] } } | undefined)?.review?.reviewers ?? [];
  if (reviewers.length > 0) rows.push(['reviewers', reviewers]);
  if (d.privacyLossBound !== undefined) rows.push(['privacy loss bound', `epsilon at most ${String(d.privacyLossBound)} over the whole contract`]);
  rows.push(['reciprocity rules', d.reciprocityRuleIds.length > 0 ? d.reciprocityRuleIds.join(', ') : 'none named by the offer']);
  return rows;
}
