/**
 * Contracts: the caller's list (GET /v1/contracts), one contract's terms in
 * words with the action its party can take (sign as consumer, countersign as
 * provider, revoke), an export for offline verification, and — for the
 * consumer of an active contract — running a job.
 */
import { ApiError, call, query, type Page } from '../api.js';
import { errorBox, field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import { namesFor, participantName } from '../lookup.js';
import * as session from '../session.js';
import { purposeText, signContractDocument, termsView, type ContractView } from '../terms.js';
import { analysisForm } from './analysis.js';
import { receiptButton } from './jobs.js';

interface ContractListItem {
  id: string;
  state: string;
  datasetId?: string;
  providerId?: string;
  consumerId?: string;
  title?: string;
  document?: ContractView['document'];
  createdAt?: string;
}

/** Render the contracts page (`?id=` opens one contract). */
export async function contractsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const open = h('form', { id: 'open-contract', class: 'row' }, field('Contract id', input('id', { value: params.get('id') ?? '' })), h('button', { type: 'submit' }, 'Open'));
  open.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/contracts?id=${encodeURIComponent(valueOf(open, 'id'))}`;
  });
  const detail = h('section', { id: 'contract-detail' });
  const list = h('section', { id: 'contract-list' });
  main.append(h('h1', {}, 'Contracts'), open, detail, list);
  const id = params.get('id');
  if (id) await showContract(id, detail);
  await showList(list);
}

const waitingFor = (c: { state: string }): string | null => (c.state === 'proposed' ? 'consumer' : c.state === 'consumer_signed' ? 'provider' : null);

async function showList(into: HTMLElement): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, 'Your contracts'), status.el);
  const me = session.me();
  status.wait('Loading your contracts…');
  let page: Page<ContractListItem>;
  try {
    page = await call<Page<ContractListItem>>('GET', `/v1/contracts${query({ limit: 100 })}`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'ROUTE_NOT_FOUND') {
      status.info('This service does not list contracts yet: open one by its id above.');
      return;
    }
    status.error(e);
    return;
  }
  status.clear();
  if (page.items.length === 0) {
    into.append(h('p', {}, 'No contracts yet.'));
    return;
  }
  const rows = await Promise.all(page.items.map(async (c) => {
    const providerId = c.providerId ?? c.document?.provider.id;
    const consumerId = c.consumerId ?? c.document?.consumer.id;
    const mine = waitingFor(c) === 'provider' ? providerId === me?.id : waitingFor(c) === 'consumer' ? consumerId === me?.id : false;
    return [
      h('a', { href: `#/contracts?id=${encodeURIComponent(c.id)}` }, c.title ?? c.id),
      providerId ? await participantName(providerId) : '—',
      consumerId ? await participantName(consumerId) : '—',
      c.state,
      mine ? h('strong', {}, 'waiting for your signature') : '',
    ];
  }));
  into.append(table('Contracts', ['Contract', 'Provider', 'Consumer', 'State', ''], rows));
}

async function showContract(id: string, into: HTMLElement): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, `Contract ${id}`), status.el);
  const c = await run(null, status, 'Loading the contract and its parties…', () => call<ContractView>('GET', `/v1/contracts/${encodeURIComponent(id)}`));
  if (!c) return;
  const names = await namesFor(c.document);
  status.clear();
  const me = session.me();
  const s = session.signer();
  const actions = h('div', { class: 'actions' });
  const actionStatus = new Status();
  const wait = waitingFor(c);
  const party = me && c.document.consumer.id === me.id ? 'consumer' : me && c.document.provider.id === me.id ? 'provider' : null;
  if (wait && party === wait && s) {
    const label = wait === 'consumer' ? 'Sign these terms' : 'Countersign these terms';
    actions.append(h('p', {}, `Signing uses your key in this page over the exact canonical form of the terms above (digest shown).`),
      h('button', { type: 'button', id: 'sign-contract', onclick: async (e: Event) => {
        const done = await run(e.currentTarget as HTMLButtonElement, actionStatus, 'Signing in this page and sending the signature…', async () =>
          call<{ id: string; state: string }>('POST', `/v1/contracts/${encodeURIComponent(c.id)}/signatures`, signContractDocument(c, s)));
        if (done) {
          await showContract(id, into);
          into.querySelector('.actions')?.prepend(h('p', { class: 'status ok', id: 'signed' }, `Signed as ${wait}; the contract is now ${done.state}.`));
        }
      } }, label));
  } else if (wait) {
    actions.append(h('p', {}, `Waiting for the ${wait}'s signature.`));
  }
  if (c.state === 'active' && (party === 'provider' || session.hasRole('operator'))) {
    const reason = input('reason', { value: '' });
    actions.append(h('form', { class: 'row', id: 'revoke-form', onsubmit: async (e: Event) => {
      e.preventDefault();
      const r = await run(null, actionStatus, 'Revoking…', () => call<{ state: string }>('POST', `/v1/contracts/${encodeURIComponent(c.id)}/revoke`, { reason: reason.value || 'revoked in the console' }));
      if (r) await showContract(id, into);
    } }, field('Reason for revoking', reason), h('button', { type: 'submit', class: 'danger' }, 'Revoke')));
  }
  into.append(termsView(c, names), actions, actionStatus.el, exportLink(c));
  if (c.state === 'active' && party === 'consumer') into.append(await jobForm(c));
}

/** The contract with both parties' public keys, as `tds contract verify --save` writes it. */
function exportLink(c: ContractView): HTMLElement {
  const holder = h('p', {});
  const btn = h('button', { type: 'button', class: 'secondary', id: 'export-contract', onclick: async () => {
    const status = new Status();
    holder.replaceChildren(status.el);
    const keys: Record<string, unknown> = {};
    try {
      for (const party of [c.document.consumer, c.document.provider]) {
        const p = await call<{ keys: Array<{ kid: string; publicKeyJwk: unknown }> }>('GET', `/v1/participants/${encodeURIComponent(party.id)}`);
        const k = p.keys.find((x) => x.kid === party.kid);
        if (k) keys[party.kid] = k.publicKeyJwk;
      }
    } catch (e) {
      holder.replaceChildren(errorBox(e));
      return;
    }
    const blob = new Blob([JSON.stringify({ ...c, keys }, null, 2) + '\n'], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `contract-${c.id}.json` }, `Save contract-${c.id}.json`);
    holder.replaceChildren(a);
    a.click();
  } }, 'Export for offline verification');
  return h('div', {}, btn, holder);
}

async function jobForm(c: ContractView): Promise<HTMLElement> {
  const status = new Status();
  const result = h('div', { id: 'job-result', 'aria-live': 'polite' });
  const compute = c.document.access === 'compute';
  const purpose = select('purpose', c.document.purposes.map((p) => [p, purposeText(p)]));
  const form = h('form', { id: 'job-form' }, field('Purpose of this job', purpose));
  let analysis: (() => unknown) | undefined;
  if (compute) {
    const a = await analysisForm(c.document.dataset.id);
    form.append(a.el);
    analysis = a.value;
  }
  form.append(h('button', { type: 'submit' }, compute ? 'Submit the analysis' : 'Run a job (release the dataset)'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { contractId: c.id, purpose: purpose.value };
    if (analysis) {
      try {
        body.analysis = analysis();
      } catch (err) {
        status.error(err);
        return;
      }
    }
    const job = await run(form.querySelector('button[type=submit]'), status, 'Asking the service to authorize the job (every rule is checked now)…', () =>
      call<{ id: string; state: string; release?: { url: string; sha256: string; expiresAt: string } }>('POST', '/v1/jobs', body, { 'idempotency-key': crypto.randomUUID() }));
    if (!job) return;
    status.clear();
    result.replaceChildren(h('div', { class: 'status ok', id: 'job-created' },
      h('p', {}, `Job ${job.id}: ${job.state}.`),
      job.release ? h('p', {}, 'Release: ', h('code', {}, job.release.url), ` (SHA-256 ${job.release.sha256}), token valid until `, when(job.release.expiresAt), '.') : null,
      h('p', {}, h('a', { href: `#/jobs?id=${encodeURIComponent(job.id)}` }, 'Follow this job'))), receiptButton(job.id));
  });
  return h('section', {}, h('h2', {}, 'Run a job under this contract'), form, status.el, result);
}
