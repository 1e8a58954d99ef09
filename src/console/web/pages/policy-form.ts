/**
 * The output policy of a compute offer as labelled form fields (schema
 * contracts/output-policy.v1), pre-filled with the defaults of
 * src/agreements/output-policy.ts so the provider sees what will be signed.
 * Reviewers are chosen from the directory's participants with the role
 * reviewer. The page does not second-guess the service: whatever it refuses
 * comes back as the problem's detail.
 */
import { DEFAULT_OUTPUT_POLICY } from '../../../agreements/output-policy.js';
import { call, query, type Page } from '../api.js';
import { field, h, input } from '../dom.js';

/** The fieldset and a function reading the policy it describes (throws with a message naming a bad field). */
export function policyFieldset(): { el: HTMLFieldSetElement; value: () => Record<string, unknown> } {
  const d = DEFAULT_OUTPUT_POLICY;
  const num = (name: string, value: number, attrs: Record<string, string | number> = {}) => input(name, { type: 'number', value, required: true, ...attrs });
  const minCellCount = num('minCellCount', d.minCellCount, { min: 1, step: 1 });
  const roundTo = num('roundTo', d.roundTo, { min: 1, step: 1 });
  const domN = num('dominanceN', d.dominance.n, { min: 1, max: 100, step: 1 });
  const domK = num('dominanceK', d.dominance.k, { min: 0.01, max: 1, step: 0.01 });
  const pRatio = num('pRatio', d.pRatio, { min: 0, max: 1, step: 0.01 });
  const minResidualDf = num('minResidualDf', d.minResidualDf, { min: 1, step: 1 });
  const maxRows = num('maxRows', d.maxRows, { min: 1, max: 100000, step: 1 });
  const allowExtremes = h('input', { type: 'checkbox', name: 'allowExtremes', id: 'policy-extremes', checked: d.allowExtremes });
  const noiseOn = h('input', { type: 'checkbox', name: 'noise', id: 'policy-noise', checked: d.noise !== null });
  const epsilon = num('epsilon', d.noise?.epsilon ?? 1, { min: 0.01, max: 100, step: 0.01 });
  const approvals = num('approvals', d.review.approvals, { min: 0, max: 20, step: 1 });
  const reviewerList = h('div', { id: 'policy-reviewers', 'aria-live': 'polite' }, h('p', {}, 'Loading the reviewers in the directory…'));
  const epsilonField = field('Privacy budget per job (ε)', epsilon, 'Smaller is more private; the contract\u2019s total is invocations × ε.');
  const syncNoise = () => {
    epsilon.disabled = !noiseOn.checked;
  };
  noiseOn.addEventListener('change', syncNoise);
  syncNoise();
  const el = h('fieldset', { id: 'policy-form' },
    h('legend', {}, 'Output policy (what may leave your site: fixed in every contract on this offer)'),
    field('Minimum rows per released group', minCellCount, 'A group built from fewer rows is not released (default 10).'),
    field('Round counts to multiples of', roundTo, '1 means no rounding (default 5).'),
    h('div', { class: 'row' },
      field('Dominance: largest contributions (n)', domN, 'Default 2.'),
      field('Dominance: share of the total (k)', domK, 'A sum or mean is suppressed when its n largest contributions make up at least k of it (default 0.9).')),
    field('p-ratio', pRatio, 'A sum or mean is suppressed when (total − two largest) / largest is under this (default 0.1).'),
    field('Residual degrees of freedom a regression needs', minResidualDf, 'Default 10.'),
    field('Most result rows', maxRows, 'Default 5000.'),
    h('div', { class: 'check' }, allowExtremes, h('label', { for: allowExtremes.id }, 'Allow minimum and maximum (one person\u2019s value)')),
    h('div', { class: 'check' }, noiseOn, h('label', { for: noiseOn.id }, 'Add discrete-Laplace noise to counts')),
    epsilonField,
    h('fieldset', {}, h('legend', {}, 'Output review'),
      field('Reviewer approvals before a result is released', approvals, '0 releases checked results without review.'),
      reviewerList));
  void loadReviewers(reviewerList);
  const read = (el: HTMLInputElement, label: string): number => {
    const v = Number(el.value);
    if (el.value.trim() === '' || !Number.isFinite(v)) throw new Error(`${label}: enter a number`);
    return v;
  };
  const value = () => {
    const policy: Record<string, unknown> = {
      minCellCount: read(minCellCount, 'Minimum rows per released group'),
      roundTo: read(roundTo, 'Round counts to multiples of'),
      dominance: { n: read(domN, 'Dominance n'), k: read(domK, 'Dominance k') },
      pRatio: read(pRatio, 'p-ratio'),
      minResidualDf: read(minResidualDf, 'Residual degrees of freedom'),
      allowExtremes: allowExtremes.checked,
      maxRows: read(maxRows, 'Most result rows'),
      noise: noiseOn.checked ? { mechanism: 'discrete-laplace', epsilon: read(epsilon, 'Privacy budget per job') } : null,
      review: {
        approvals: read(approvals, 'Reviewer approvals'),
        reviewers: [...reviewerList.querySelectorAll<HTMLInputElement>('input[name=reviewer]:checked')].map((c) => c.value),
      },
    };
    return policy;
  };
  return { el, value };
}

async function loadReviewers(into: HTMLElement): Promise<void> {
  let page: Page<{ id: string; name: string }>;
  try {
    page = await call<Page<{ id: string; name: string }>>('GET', `/v1/participants${query({ role: 'reviewer', status: 'active', limit: 200 })}`);
  } catch (e) {
    into.replaceChildren(h('p', { class: 'status bad' }, `The directory could not be read, so no reviewer can be chosen: ${(e as Error).message}`));
    return;
  }
  if (page.items.length === 0) {
    into.replaceChildren(h('p', {}, 'No participant holds the role reviewer yet.'));
    return;
  }
  into.replaceChildren(h('p', {}, 'Who may review:'), ...page.items.map((p) => {
    const box = h('input', { type: 'checkbox', name: 'reviewer', value: p.id, id: `reviewer-${p.id}` });
    return h('div', { class: 'check' }, box, h('label', { for: box.id }, `${p.name} (${p.id.slice(0, 8)})`));
  }));
}
