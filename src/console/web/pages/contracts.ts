/**
 * Contracts: the caller's list (GET /v1/contracts), one contract's terms in
 * words with the action its party can take (sign as consumer, countersign as
 * provider, revoke), an export for offline verification, and — for the
 * consumer of an active contract — running a job.
 */
import { call, query, type Page } from '../api.js';
import { errorBox, field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import { datasetTitle, namesFor, participantName } from '../lookup.js';
import { pager } from '../pager.js';
import * as session from '../session.js';
import { purposeText, signContractDocument, termsView } from '../terms.js';
import { keysByKid, type VerificationKey } from '../../../agreements/contract-document.js';
import type { ContractView } from '../../../agreements/contract-view.js';
import type { ParticipantView } from '../../../participants/participant-view.js';
import type { ReleaseView } from '../../../jobs/release-token.js';
import { analysisForm } from './analysis.js';
import { receiptButton } from './jobs.js';
import { confirmSpend, releaseView } from './release.js';

/**
 * One row of GET /v1/contracts. The list names the parties and the dataset;
 * the fallbacks (ids looked up in the directory) keep the page usable with a
 * service that lists ids only.
 */
interface ContractListItem {
  id: string;
  state: string;
  dataset?: { id: string; title?: string };
  datasetId?: string;
  datasetTitle?: string;
  provider?: { id: string; name?: string };
  consumer?: { id: string; name?: string };
  providerId?: string;
  consumerId?: string;
  purposes?: string[];
  maxInvocations?: number;
  invocationsUsed?: number;
  invocationsRemaining?: number;
  validFrom?: string;
  validUntil?: string;
  document?: ContractView['document'];
}

/** Render the contracts page (`?id=` opens one contract; `?role=&state=` choose the list). */
export async function contractsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const open = h('form', { id: 'open-contract', class: 'row' }, field('Contract id', input('id', { value: params.get('id') ?? '' })), h('button', { type: 'submit' }, 'Open'));
  open.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/contracts?id=${encodeURIComponent(valueOf(open, 'id'))}`;
  });
  const detail = h('section', { id: 'contract-detail' });
  const list = h('section', { id: 'contract-list' });
  main.append(h('h1', {}, 'Contracts'), open, detail, list);
  const refreshList = () => showList(list, params);
  const id = params.get('id');
  if (id) await showContract(id, detail, refreshList);
  await refreshList();
}

const waitingFor = (c: { state: string }): string | null => (c.state === 'proposed' ? 'consumer' : c.state === 'consumer_signed' ? 'provider' : null);

const STATES: Array<[string, string]> = [
  ['', 'any state'],
  ['proposed', 'proposed (waiting for the consumer\u2019s signature)'],
  ['consumer_signed', 'signed by the consumer (waiting for the provider\u2019s countersignature)'],
  ['active', 'active'],
  ['exhausted', 'exhausted (every invocation used)'],
  ['expired', 'expired'],
  ['revoked', 'revoked'],
];

/** The heading of a list: what a provider must countersign, or the consumer's own contracts. */
function listTitle(role: string, state: string): string {
  if (role === 'provider' && state === 'consumer_signed') return 'Contracts to countersign';
  if (role === 'provider') return 'Contracts on my data';
  if (role === 'consumer' && state === 'proposed') return 'My contracts waiting for my signature';
  return role === 'consumer' ? 'My contracts' : 'Contracts of the space';
}

async function showList(into: HTMLElement, params: URLSearchParams): Promise<void> {
  const me = session.me();
  const roles = ['provider', 'consumer'].filter((r) => session.hasRole(r));
  // The operator and auditors read every contract of the space (no role).
  if (session.hasRole('operator') || session.hasRole('auditor')) roles.push('');
  const ROLE_LABEL: Record<string, string> = { provider: 'as provider (contracts on my data)', consumer: 'as consumer (my contracts)', '': 'every contract of the space' };
  if (roles.length === 0) {
    into.replaceChildren(h('p', {}, 'Open a contract by its id above.'));
    return;
  }
  const role = select('role', roles.map((r): [string, string] => [r, ROLE_LABEL[r]!]), { id: 'contracts-role' });
  role.value = roles.includes(params.get('role') ?? '-') ? params.get('role')! : roles[0]!;
  const state = select('state', STATES, { id: 'contracts-state' });
  // A provider first sees what waits for its countersignature; "My contracts" and the space's list show any state.
  const stateOf = (r: string) => (r === 'provider' ? 'consumer_signed' : '');
  state.value = params.has('role') ? (params.get('state') ?? '') : stateOf(role.value);
  const heading = h('h2', { id: 'contract-list-title' }, listTitle(role.value, state.value));
  // Another view starts from its own state filter, not the one chosen for the last view.
  role.addEventListener('change', () => {
    state.value = stateOf(role.value);
    heading.textContent = listTitle(role.value, state.value);
  });
  const form = h('form', { class: 'row', id: 'contract-filters' }, field('Show', role), field('State', state), h('button', { type: 'submit' }, 'List'));
  const pages = h('div', { id: 'contract-pages' });
  into.replaceChildren(heading, form, pages);
  const load = async () => {
    heading.textContent = listTitle(role.value, state.value);
    await pager<ContractListItem>(pages, `Loading ${heading.textContent.toLowerCase()}…`,
      (cursor) => call<Page<ContractListItem>>('GET', `/v1/contracts${query({ role: role.value, state: state.value, limit: 20, cursor })}`),
      async (items) => (items.length === 0 ? h('p', { id: 'no-contracts' }, 'None.') : table(heading.textContent ?? 'Contracts',
        ['Dataset', 'Provider', 'Consumer', 'Purposes', 'Invocations', 'Valid', 'State', ''],
        await Promise.all(items.map((c) => contractRow(c, me?.id))))));
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  await load();
}

async function contractRow(c: ContractListItem, meId: string | undefined): Promise<Array<Node | string>> {
  const providerId = c.provider?.id ?? c.providerId ?? c.document?.provider.id;
  const consumerId = c.consumer?.id ?? c.consumerId ?? c.document?.consumer.id;
  const datasetId = c.dataset?.id ?? c.datasetId ?? c.document?.dataset.id;
  const name = async (p: { name?: string } | undefined, pid: string | undefined) => p?.name ?? (pid ? await participantName(pid) : '\u2014');
  const title = c.dataset?.title ?? c.datasetTitle ?? (datasetId ? await datasetTitle(datasetId) : c.id);
  const wait = waitingFor(c);
  const mine = wait === 'provider' ? providerId === meId : wait === 'consumer' ? consumerId === meId : false;
  const used = c.invocationsUsed;
  const max = c.maxInvocations ?? c.document?.maxInvocations;
  const purposes = c.purposes ?? c.document?.purposes ?? [];
  return [
    h('a', { href: `#/contracts?id=${encodeURIComponent(c.id)}`, 'data-contract': c.id }, title),
    await name(c.provider, providerId),
    await name(c.consumer, consumerId),
    h('ul', {}, ...purposes.map((p) => h('li', {}, purposeText(p)))),
    max === undefined ? '\u2014' : used === undefined ? `at most ${max}` : `${used} of ${max} used`,
    h('span', {}, when(c.validFrom ?? c.document?.validFrom), ' to ', when(c.validUntil ?? c.document?.validUntil)),
    c.state,
    mine ? h('a', { href: `#/contracts?id=${encodeURIComponent(c.id)}`, class: 'action' }, wait === 'provider' ? 'Open and countersign' : 'Open and sign') : '',
  ];
}

async function showContract(id: string, into: HTMLElement, changed: () => Promise<void> = async () => {}): Promise<void> {
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
          await showContract(id, into, changed);
          into.querySelector('.actions')?.prepend(h('p', { class: 'status ok', id: 'signed' }, `Signed as ${wait}; the contract is now ${done.state}.`));
          await changed();
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
      if (r) {
        await showContract(id, into, changed);
        await changed();
      }
    } }, field('Reason for revoking', reason), h('button', { type: 'submit', class: 'danger' }, 'Revoke')));
  }
  let terms = termsView(c, names);
  into.append(terms, actions, actionStatus.el, exportLink(c));
  // After a job the terms show the invocations now left, and the list below its new count.
  const spent = async () => {
    const now = await call<ContractView>('GET', `/v1/contracts/${encodeURIComponent(c.id)}`).catch(() => undefined);
    if (now) {
      const fresh = termsView(now, names);
      terms.replaceWith(fresh);
      terms = fresh;
    }
    await changed();
  };
  if (c.state === 'active' && party === 'consumer') into.append(await jobForm(c, spent));
}

/**
 * The contract with both parties' public keys and their history (createdAt,
 * revokedAt), as `tds contract verify --save` writes it: keysByKid of each
 * party's directory entry, so the file shows the keys were current when they signed.
 */
function exportLink(c: ContractView): HTMLElement {
  const holder = h('p', {});
  const btn = h('button', { type: 'button', class: 'secondary', id: 'export-contract', onclick: async () => {
    const status = new Status();
    holder.replaceChildren(status.el);
    const keys: Record<string, VerificationKey> = {};
    try {
      for (const party of [c.document.consumer, c.document.provider]) {
        const listed = keysByKid((await call<ParticipantView>('GET', `/v1/participants/${encodeURIComponent(party.id)}`)).keys);
        if (Object.prototype.hasOwnProperty.call(listed, party.kid)) keys[party.kid] = listed[party.kid]!;
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

/**
 * Run a job under an active contract: the purpose (and for compute, the
 * analysis, checked in the page first), a confirmation with the invocations
 * left, then POST /v1/jobs. One Idempotency-Key per request body until it is
 * answered, so pressing again after a lost answer gets the same job, not a
 * second invocation; a download release then shows its token and commands.
 */
async function jobForm(c: ContractView, spent: () => Promise<void>): Promise<HTMLElement> {
  const status = new Status();
  const confirm = h('div', { id: 'job-confirm-area' });
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
  const submit = h('button', { type: 'submit' }, compute ? 'Submit the analysis' : 'Run a job (release the dataset)');
  form.append(submit, confirm);
  let pending: { body: string; key: string } | undefined;
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
    status.clear();
    submit.disabled = true;
    const go = await confirmSpend(confirm, {
      contractId: c.id,
      action: compute ? 'submit the analysis' : 'release the dataset',
      why: compute ? 'An analysis is counted when it is submitted, whatever its result.' : 'The release itself is the invocation: it is not given back, whether or not the file is then downloaded.',
    }).finally(() => (submit.disabled = false));
    if (!go) return;
    const text = JSON.stringify(body);
    if (pending?.body !== text) pending = { body: text, key: crypto.randomUUID() };
    const asked = { contractId: c.id, purpose: purpose.value, idempotencyKey: pending.key };
    const job = await run(submit, status, 'Asking the service to authorize the job (every rule is checked now)…', () =>
      call<{ id: string; state: string; release?: ReleaseView }>('POST', '/v1/jobs', body, { 'idempotency-key': asked.idempotencyKey }));
    if (!job) return;
    pending = undefined;
    status.clear();
    result.replaceChildren(h('div', { class: 'status ok', id: 'job-created' },
      h('p', {}, `Job ${job.id}: ${job.state}.`),
      h('p', {}, h('a', { href: `#/jobs?id=${encodeURIComponent(job.id)}` }, 'Follow this job'))),
    ...(job.release ? [releaseView(job.id, job.release, asked)] : []), receiptButton(job.id));
    await spent();
  });
  return h('section', {}, h('h2', {}, 'Run a job under this contract'), form, status.el, result);
}
