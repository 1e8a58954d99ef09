/**
 * Jobs: the caller's jobs (GET /v1/jobs, as consumer, provider or reviewer),
 * one job's state (a rejected or failed job's reason in words, with its
 * code), and its result, checked and shown by result-view.ts (a table with
 * suppressed cells marked, and for a named reviewer of a held result a
 * signed approve/reject vote).
 */
import { ApiError, call, query, type Page } from '../api.js';
import { datasetTitle } from '../lookup.js';
import { pager } from '../pager.js';
import { reasonText } from '../reasons.js';
import { purposeText } from '../terms.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import * as session from '../session.js';
import type { JobListItem } from '../../../jobs/job-view.js';
import type { ReleaseView } from '../../../jobs/release-token.js';
import { releaseView } from './release.js';
import { showResult } from './result-view.js';

/**
 * A job as the page shows it: the API's job (or list item), of which a named
 * reviewer, who may not read the job itself, knows only what its result
 * carries (id, contract, state).
 */
type JobShown = Partial<Omit<JobListItem, 'state'>> & Pick<JobListItem, 'id' | 'contractId'> & { state: string };

/** Render the jobs page (`?id=` opens one job). */
export async function jobsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const open = h('form', { class: 'row', id: 'open-job' }, field('Job id', input('id', { value: params.get('id') ?? '' })), h('button', { type: 'submit' }, 'Open'));
  open.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/jobs?id=${encodeURIComponent(valueOf(open, 'id'))}`;
  });
  const detail = h('section', { id: 'job-detail' });
  const list = h('section', { id: 'job-list' });
  main.append(h('h1', {}, 'Jobs'), open, detail, list);
  const refreshList = () => showList(list, params);
  const id = params.get('id');
  if (id) await showJob(id, detail, refreshList);
  await refreshList();
}

const ROLE_TEXT: Record<string, string> = { consumer: 'jobs I asked for', provider: 'jobs on my data', reviewer: 'results I review' };

async function showList(into: HTMLElement, params: URLSearchParams): Promise<void> {
  const roles = ['consumer', 'provider', 'reviewer'].filter((r) => session.hasRole(r));
  const role = select('role', roles.map((r): [string, string] => [r, ROLE_TEXT[r]!]), { id: 'jobs-role' });
  if (roles.includes(params.get('role') ?? '')) role.value = params.get('role')!;
  const state = select('state', [['', 'any state'], ...['queued', 'running', 'held', 'completed', 'rejected', 'failed', 'authorized'].map((s): [string, string] => [s, s === 'held' ? 'held for review' : s])], { id: 'jobs-state' });
  // A reviewer first sees what awaits its vote; the other views show any state.
  const stateOf = (r: string) => (r === 'reviewer' ? 'held' : '');
  state.value = params.get('state') ?? stateOf(role.value);
  role.addEventListener('change', () => (state.value = stateOf(role.value)));
  const pages = h('div', { id: 'job-pages' });
  const form = h('form', { class: 'row', id: 'job-filters' }, field('Show', role), field('State', state), h('button', { type: 'submit' }, 'List'));
  into.replaceChildren(h('h2', {}, 'Your jobs'), form, pages);
  const load = () => pager<JobShown>(pages, `Loading ${ROLE_TEXT[role.value] ?? 'your jobs'}…`,
    (cursor) => call<Page<JobShown>>('GET', `/v1/jobs${query({ role: role.value, state: state.value, limit: 20, cursor })}`),
    async (items) => (items.length === 0 ? h('p', { id: 'no-jobs' }, 'No jobs.') : table('Jobs', ['Job', 'Dataset', 'Purpose', 'State', 'Since'], await Promise.all(items.map(async (j) => [
      h('a', { href: `#/jobs?id=${encodeURIComponent(j.id)}`, 'data-job': j.id }, j.id.slice(0, 8)),
      j.datasetId ? await datasetTitle(j.datasetId) : h('a', { href: `#/contracts?id=${encodeURIComponent(j.contractId)}` }, 'contract'),
      j.purpose ? purposeText(j.purpose) : '\u2014',
      j.state === 'held' ? h('strong', {}, 'held for review') : j.state,
      when(j.createdAt),
    ])))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  if (roles.length > 0) await load();
}

/**
 * The job as its parties read it (GET /v1/jobs/:id). A named reviewer is no
 * party: it reads the job through its result, which carries the job's id,
 * contract and state, and its list of the jobs it reviews, which names the
 * provider whose signature the result must carry.
 */
async function loadJob(id: string): Promise<JobShown & { reviewerView?: boolean }> {
  try {
    return await call<JobShown>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'FORBIDDEN' && session.hasRole('reviewer'))) throw e;
    const r = await call<{ result?: { contractId: string }; state: string }>('GET', `/v1/jobs/${encodeURIComponent(id)}/result`);
    if (!r.result) throw e;
    const listed = await reviewedJob(id, r.result.contractId);
    return { ...listed, id, state: r.state, contractId: r.result.contractId, access: 'compute', reviewerView: true };
  }
}

/** The job as the reviewer's list shows it (GET /v1/jobs?role=reviewer&contractId=), page by page; undefined when not listed. */
async function reviewedJob(id: string, contractId: string): Promise<JobShown | undefined> {
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await call<Page<JobShown>>('GET', `/v1/jobs${query({ role: 'reviewer', contractId, limit: 200, cursor })}`);
    const found = page.items.find((j) => j.id === id);
    if (found || !page.nextCursor) return found;
    cursor = page.nextCursor;
  }
  return undefined;
}

async function showJob(id: string, into: HTMLElement, changed: () => Promise<void>): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, `Job ${id}`), status.el);
  const j = await run(null, status, 'Loading the job…', () => loadJob(id));
  if (!j) return;
  status.clear();
  into.append(h('dl', { class: 'terms', id: 'job-facts' },
    h('dt', {}, 'State'), h('dd', { id: 'job-state' }, j.state === 'held' ? 'held for review' : j.state),
    j.datasetId ? [h('dt', {}, 'Dataset'), h('dd', {}, await datasetTitle(j.datasetId))] : null,
    h('dt', {}, 'Contract'), h('dd', {}, j.reviewerView ? h('code', {}, j.contractId) : h('a', { href: `#/contracts?id=${encodeURIComponent(j.contractId)}` }, j.contractId)),
    j.purpose ? [h('dt', {}, 'Purpose'), h('dd', {}, purposeText(j.purpose))] : null,
    j.reason ? [h('dt', {}, 'Reason'), h('dd', { id: 'job-reason' }, reasonText(j.reason))] : null,
    j.resultDigest ? [h('dt', {}, 'Result digest'), h('dd', {}, h('code', {}, j.resultDigest))] : null));
  // A release still usable: its token and the command that fetches the file (the page cannot: it talks only to the service).
  const release = (j as { release?: ReleaseView }).release;
  if (j.access === 'download' && j.state === 'authorized' && release?.token && Date.parse(release.expiresAt) > Date.now()) into.append(releaseView(j.id, release));
  if (!j.reviewerView) into.append(receiptButton(j.id));
  if (j.access === 'compute' && ['held', 'completed', 'rejected'].includes(j.state)) {
    await showResult(j, into, async () => {
      await showJob(id, into, changed);
      await changed();
    });
  }
}

/**
 * "Save the receipt": GET /jobs/:id/receipt, the c2sp.org/tlog-proof@v1
 * proof of the job's release (entry bytes, inclusion proof, cosigned
 * checkpoint), saved as a file to keep as evidence or verify on "Verify a file".
 */
export function receiptButton(jobId: string): HTMLElement {
  const status = new Status();
  const holder = h('span', {});
  const btn = h('button', { type: 'button', class: 'secondary', id: 'save-receipt', onclick: async () => {
    const text = await run(btn, status, 'Fetching the receipt (proof of the release under a signed checkpoint)…', () => call<string>('GET', `/v1/jobs/${encodeURIComponent(jobId)}/receipt`));
    if (text === undefined) return;
    status.ok('Receipt saved: it proves the release without the service, on "Verify a file" or with tds receipt verify.');
    const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: `receipt-${jobId}.tlog-proof` }, `Save receipt-${jobId}.tlog-proof`);
    holder.replaceChildren(a);
    a.click();
  } }, 'Save the receipt');
  return h('div', { class: 'receipt' }, btn, holder, status.el);
}
