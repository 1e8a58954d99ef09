/**
 * The provider's datasets: publish one from a file (its size and SHA-256 are
 * computed here, in the page; the file itself is never uploaded), list them,
 * and make offers on them.
 */
import { call, query, type Page } from '../api.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import * as session from '../session.js';
import { sha256Incremental, toHex } from '../../../crypto/sha256.js';
import { policyText, PURPOSES, purposeText } from '../terms.js';
import { priceText } from '../../../agreements/terms-text.js';
import type { DatasetView } from '../../../datasets/dataset-view.js';
import type { OfferView } from '../../../agreements/offer-view.js';
import { policyFieldset } from './policy-form.js';

/** Size and SHA-256 hex of a file, read in chunks so large files do not fill memory. */
export async function digestFile(file: File, progress: (done: number) => void): Promise<{ byteSize: number; sha256: string }> {
  const h256 = sha256Incremental();
  const reader = file.stream().getReader();
  let done = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    h256.update(value);
    done += value.length;
    progress(done);
  }
  return { byteSize: done, sha256: toHex(h256.digest()) };
}

/** Render the datasets page. */
export function datasetsPage(main: HTMLElement): void {
  const listStatus = new Status();
  const list = h('div', { id: 'my-datasets' });
  const offers = h('section', { id: 'dataset-offers', 'aria-live': 'polite' });
  main.append(h('h1', {}, 'My datasets and offers'), publishForm(() => void refresh()), h('h2', {}, 'Published'), listStatus.el, list, offers);
  const refresh = async () => {
    const me = session.me();
    if (!me) return;
    const page = await run(null, listStatus, 'Loading your datasets…', () => call<Page<DatasetView>>('GET', `/v1/datasets${query({ provider: me.id, limit: 100 })}`));
    if (!page) return;
    listStatus.info(`${page.items.length} dataset(s).`);
    list.replaceChildren(table('My datasets', ['Title', 'Kind', 'Field', 'SHA-256', 'Published', 'Status', ''], page.items.map((d) => [
      d.title, d.kind, d.researchField, h('code', {}, d.distribution.sha256.slice(0, 16) + '…'), when(d.publishedAt), d.status,
      h('button', { type: 'button', class: 'secondary', onclick: () => void showOffers(d, offers) }, `Offers on ${d.title}`),
    ])));
  };
  void refresh();
}

function publishForm(published: () => void): HTMLElement {
  const status = new Status();
  const file = h('input', { type: 'file', name: 'file' });
  const digest = h('p', { id: 'file-digest', 'aria-live': 'polite' }, 'No file chosen yet.');
  const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Hashing the file' });
  let computed: { byteSize: number; sha256: string; mediaType: string } | undefined;
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    computed = undefined;
    if (!f) return;
    progress.max = f.size || 1;
    digest.textContent = `Computing the SHA-256 of ${f.name} in this page (${f.size} bytes)…`;
    const r = await digestFile(f, (n) => (progress.value = n));
    computed = { ...r, mediaType: f.type || 'application/octet-stream' };
    digest.textContent = `${f.name}: ${r.byteSize} bytes, SHA-256 ${r.sha256}`;
    const url = form.elements.namedItem('url') as HTMLInputElement;
    if (!url.value) url.placeholder = `https://your-gateway.example/${f.name}`;
  });
  // Required fields say so in their labels (the optional ones say "optional"), not only to the browser.
  const form = h('form', { id: 'publish-form' },
    field('Title (required)', input('title', { required: true })),
    field('Description (required)', h('textarea', { name: 'description', rows: 2, required: true })),
    field('Research field (required)', input('researchField', { required: true }), 'e.g. cardiology'),
    field('Kind', select('kind', [['raw', 'raw data'], ['insight', 'insight data']])),
    field('Data file (required)', file, 'Only its size and SHA-256 are computed here; the file stays with you.'),
    progress, digest,
    field('Distribution URL (required)', input('url', { type: 'url', required: true }), 'Where your gateway serves the file (https).'),
    field('Licence (optional)', input('license')),
    field('Columns (optional, for compute offers)', h('textarea', { name: 'columns', rows: 3 }), 'One per line: name type [identifier], type one of integer, number, string, boolean, date.'),
    h('button', { type: 'submit' }, 'Publish'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!computed) {
      status.error(new Error('choose the data file first: its size and SHA-256 go into the description'));
      return;
    }
    const columns = valueOf(form, 'columns').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [name, type, flag] = l.split(/\s+/);
      return { name: name!, type: type ?? 'string', ...(flag === 'identifier' ? { identifier: true } : {}) };
    });
    const body = {
      title: valueOf(form, 'title'), description: valueOf(form, 'description'), researchField: valueOf(form, 'researchField'),
      kind: valueOf(form, 'kind'),
      distribution: { url: valueOf(form, 'url'), sha256: computed.sha256, byteSize: computed.byteSize, mediaType: computed.mediaType },
      ...(valueOf(form, 'license') ? { license: valueOf(form, 'license') } : {}),
      ...(columns.length > 0 ? { schema: { columns } } : {}),
    };
    const d = await run(form.querySelector('button[type=submit]'), status, 'Publishing the dataset description…', () => call<{ id: string; title: string }>('POST', '/v1/datasets', body));
    if (d) {
      // Cleared, so pressing Publish again cannot publish the same dataset twice.
      form.reset();
      computed = undefined;
      progress.value = 0;
      digest.textContent = 'No file chosen yet.';
      (form.elements.namedItem('url') as HTMLInputElement).placeholder = '';
      status.ok(h('span', { id: 'published' }, `Published “${d.title}” as ${d.id}.`));
      published();
    }
  });
  return h('section', {}, h('h2', {}, 'Publish a dataset'), form, status.el);
}

async function showOffers(d: DatasetView, into: HTMLElement): Promise<void> {
  const status = new Status();
  const list = h('div', {});
  into.replaceChildren(h('h2', { tabindex: '-1' }, `Offers on ${d.title}`), status.el, list, offerForm(d, () => void load()));
  (into.firstChild as HTMLElement).focus();
  const load = async () => {
    const r = await run(null, status, `Loading the offers on ${d.title}…`, () => call<{ items: OfferView[] }>('GET', `/v1/datasets/${encodeURIComponent(d.id)}/offers`));
    if (!r) return;
    status.clear();
    list.replaceChildren(r.items.length === 0 ? h('p', {}, 'No offers yet.') : table('Offers', ['Offer', 'Purposes', 'Invocations', 'Until', 'Access', 'Price', 'Output policy', 'Status'], r.items.map((o) => [
      h('code', {}, o.id), h('ul', {}, ...o.purposes.map((p) => h('li', {}, purposeText(p)))), String(o.maxInvocations), when(o.validUntil), o.access ?? 'download',
      priceText(o.price), o.outputPolicy ? policyText({ ...o.outputPolicy }) : '—', o.status,
    ])));
  };
  await load();
}

function offerForm(d: DatasetView, made: () => void): HTMLElement {
  const status = new Status();
  const purposes = h('select', { name: 'purposes', multiple: true, size: 8, required: true },
    ...PURPOSES.map((p) => h('option', { value: p.code }, `${p.label} — ${p.code}`)));
  const policy = policyFieldset();
  const form = h('form', { id: 'offer-form' },
    field('Purposes allowed', purposes, 'Narrower purposes are allowed too; hold Ctrl or Shift to choose several.'),
    field('Invocations per contract', input('maxInvocations', { type: 'number', min: 1, value: 10, required: true })),
    field('Valid until (optional)', input('validUntil', { type: 'datetime-local' })),
    field('Access', select('access', [['', 'service default'], ['compute', 'compute at my site (aggregates only)'], ['download', 'download']])),
    field('Price per invocation (optional)', input('price', { inputmode: 'decimal' }), 'e.g. 12.50'),
    field('Currency', input('currency', { value: 'EUR', maxlength: 3 })),
    policy.el,
    h('button', { type: 'submit' }, 'Make the offer'));
  const access = form.elements.namedItem('access') as HTMLSelectElement;
  // The policy applies to compute offers; a raw dataset is offered for compute unless the offer says download.
  const isCompute = () => access.value === 'compute' || (access.value === '' && d.kind === 'raw');
  const syncPolicy = () => {
    policy.el.hidden = !isCompute();
    policy.el.disabled = !isCompute();
  };
  access.addEventListener('change', syncPolicy);
  syncPolicy();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = {
      purposes: [...purposes.selectedOptions].map((o) => o.value),
      maxInvocations: Number(valueOf(form, 'maxInvocations')),
    };
    const until = valueOf(form, 'validUntil');
    if (until) body.validUntil = new Date(until).toISOString();
    if (valueOf(form, 'access')) body.access = valueOf(form, 'access');
    if (valueOf(form, 'price')) body.price = { perInvocation: valueOf(form, 'price'), currency: valueOf(form, 'currency') };
    if (isCompute()) {
      try {
        body.outputPolicy = policy.value();
      } catch (err) {
        status.error(err);
        return;
      }
    }
    const o = await run(form.querySelector('button[type=submit]'), status, 'Creating the offer…', () => call<{ id: string }>('POST', `/v1/datasets/${encodeURIComponent(d.id)}/offers`, body));
    if (o) {
      status.ok(h('span', { id: 'offer-made' }, `Offer ${o.id} is open.`));
      made();
    }
  });
  return h('section', {}, h('h3', {}, 'New offer'), form, status.el);
}
