/**
 * The catalog: search and filter datasets, open a dataset's offers, and (as a
 * consumer) propose a contract from an offer, then sign it on the contract page.
 */
import { call, query, type Page } from '../api.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import { participantName } from '../lookup.js';
import * as session from '../session.js';
import { purposeText } from '../terms.js';
import type { DatasetView } from '../../../datasets/dataset-view.js';
import type { OfferView } from '../../../agreements/offer-view.js';

/** Render the catalog page. */
export function catalogPage(main: HTMLElement): void {
  const status = new Status();
  const results = h('div', { id: 'catalog-results' });
  const offers = h('section', { id: 'offers', 'aria-live': 'polite' });
  const form = h('form', { id: 'catalog-search', class: 'row', role: 'search' },
    field('Search words', input('q', { type: 'search' })),
    field('Research field', input('researchField')),
    field('Kind', select('kind', [['', 'any'], ['raw', 'raw'], ['insight', 'insight']])),
    field('Provider id', input('provider')),
    h('button', { type: 'submit' }, 'Search'));
  const search = async (btn: HTMLButtonElement | null) => {
    const page = await run(btn, status, 'Asking the service for matching datasets…', () =>
      call<Page<DatasetView>>('GET', `/v1/datasets${query({ q: valueOf(form, 'q'), researchField: valueOf(form, 'researchField'), kind: valueOf(form, 'kind'), provider: valueOf(form, 'provider'), limit: 50 })}`));
    if (!page) return;
    status.info(`${page.items.length} dataset(s) found${page.nextCursor ? ' (more exist: narrow the search)' : ''}.`);
    const names = await Promise.all(page.items.map((d) => participantName(d.providerId)));
    results.replaceChildren(table('Datasets', ['Title', 'Provider', 'Field', 'Kind', 'Published', ''], page.items.map((d, i) => [
      h('span', {}, h('strong', {}, d.title), h('br'), d.description),
      names[i]!, d.researchField, d.kind, when(d.publishedAt),
      h('button', { type: 'button', class: 'secondary', 'data-dataset': d.id, onclick: () => void showOffers(d, offers) }, `Offers of ${d.title}`),
    ])));
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void search(form.querySelector('button'));
  });
  main.append(h('h1', {}, 'Catalog'), form, status.el, results, offers);
  void search(null);
}

/** A dataset's offers, each with a proposal form for consumers. */
async function showOffers(d: DatasetView, into: HTMLElement): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', { tabindex: '-1' }, `Offers of ${d.title}`), status.el);
  (into.firstChild as HTMLElement).focus();
  const list = await run(null, status, `Loading the offers of ${d.title}…`, () => call<{ items: OfferView[] }>('GET', `/v1/datasets/${encodeURIComponent(d.id)}/offers`));
  if (!list) return;
  status.clear();
  if (list.items.length === 0) into.append(h('p', {}, 'No offers yet.'));
  for (const o of list.items) into.append(offerCard(o));
}

function offerPrice(o: OfferView): string {
  return o.price ? `${o.price.perInvocation} ${o.price.currency} per invocation` : 'free';
}

function offerCard(o: OfferView): HTMLElement {
  const status = new Status();
  const purposeBoxes = o.purposes.map((p) => {
    const box = h('input', { type: 'checkbox', name: 'purpose', value: p, checked: true, id: `${o.id}-${p}` });
    return h('div', { class: 'check' }, box, h('label', { for: box.id }, purposeText(p)));
  });
  const form = h('form', { class: 'propose', 'data-offer': o.id },
    h('fieldset', {}, h('legend', {}, 'Purposes you ask for'), ...purposeBoxes),
    field('Invocations', input('maxInvocations', { type: 'number', min: 1, max: o.maxInvocations, value: o.maxInvocations }), `at most ${o.maxInvocations}`),
    h('button', { type: 'submit' }, 'Propose a contract'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const purposes = [...form.querySelectorAll<HTMLInputElement>('input[name=purpose]:checked')].map((b) => b.value);
    const c = await run(form.querySelector('button'), status, 'Sending the proposal; the service builds the contract document…', () =>
      call<{ id: string }>('POST', '/v1/contracts', { offerId: o.id, purposes, maxInvocations: Number(valueOf(form, 'maxInvocations')) }));
    if (c) location.hash = `#/contracts?id=${encodeURIComponent(c.id)}`;
  });
  return h('article', { class: 'offer', id: `offer-${o.id}` },
    h('h3', {}, `Offer ${o.id}`),
    h('dl', { class: 'terms' },
      h('dt', {}, 'Purposes'), h('dd', {}, h('ul', {}, ...o.purposes.map((p) => h('li', {}, purposeText(p))))),
      h('dt', {}, 'Invocations'), h('dd', {}, `up to ${o.maxInvocations} per contract`),
      h('dt', {}, 'Valid'), h('dd', {}, 'from ', when(o.validFrom), ' until ', when(o.validUntil)),
      h('dt', {}, 'Price'), h('dd', {}, offerPrice(o)),
      o.access ? [h('dt', {}, 'Access'), h('dd', {}, o.access)] : null,
      h('dt', {}, 'Status'), h('dd', {}, o.status)),
    session.hasRole('consumer') ? form : null,
    status.el);
}
