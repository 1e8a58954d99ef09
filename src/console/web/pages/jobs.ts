/**
 * Jobs: the caller's jobs (GET /v1/jobs, as consumer or provider), one job's
 * state, its result as a table with suppressed cells marked, and — for a
 * reviewer or provider of a held result — a signed approve/reject vote.
 */
import { canonicalize } from '../../../crypto/canonical-json.js';
import { secretKeyFromJwk, sign } from '../../../crypto/ed25519.js';
import { sha256, toBase64Url, toHex, utf8 } from '../../../crypto/sha256.js';
import { ApiError, call, query, type Page } from '../api.js';
import { datasetTitle } from '../lookup.js';
import { pager } from '../pager.js';
import { purposeText } from '../terms.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import * as session from '../session.js';
import type { JobListItem } from '../../../jobs/job-view.js';

/**
 * A job as the page shows it: the API's job (or list item), of which a named
 * reviewer, who may not read the job itself, knows only what its result
 * carries (id, contract, state).
 */
type JobShown = Partial<Omit<JobListItem, 'state'>> & Pick<JobListItem, 'id' | 'contractId'> & { state: string };

interface ResultDoc {
  status: string;
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  disclosure?: { policy?: { minCellCount?: number }; suppressedRows?: number; rounded?: boolean | number; checks?: Array<{ check: string; outcome: string; cells?: number }>; noise?: { mechanism?: string; epsilon?: number } | null };
  error?: { code: string; detail?: string };
  n?: number;
  residualDf?: number;
}

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
  // A reviewer first sees what awaits its vote.
  state.value = params.get('state') ?? (role.value === 'reviewer' ? 'held' : '');
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
 * contract and state.
 */
async function loadJob(id: string): Promise<JobShown & { reviewerView?: boolean }> {
  try {
    return await call<JobShown>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'FORBIDDEN' && session.hasRole('reviewer'))) throw e;
    const r = await call<{ result?: { contractId: string }; state: string }>('GET', `/v1/jobs/${encodeURIComponent(id)}/result`);
    if (!r.result) throw e;
    return { id, state: r.state, contractId: r.result.contractId, access: 'compute', reviewerView: true };
  }
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
    j.reason ? [h('dt', {}, 'Reason'), h('dd', { id: 'job-reason' }, j.reason)] : null,
    j.resultDigest ? [h('dt', {}, 'Result digest'), h('dd', {}, h('code', {}, j.resultDigest))] : null));
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

async function showResult(j: JobShown, into: HTMLElement, voted: () => Promise<void>): Promise<void> {
  const status = new Status();
  const section = h('section', { id: 'job-result-view' }, h('h3', {}, 'Result'), status.el);
  into.append(section);
  const r = await run(null, status, 'Fetching the signed result…', () => call<{ result?: ResultDoc & Record<string, unknown>; resultDigest: string; status: string; state: string }>('GET', `/v1/jobs/${encodeURIComponent(j.id)}/result`));
  if (!r) return;
  status.clear();
  if (!r.result) {
    section.append(h('p', {}, `Result ${r.status}, digest `, h('code', {}, r.resultDigest), ' (its rows are for the parties and reviewers only).'));
    return;
  }
  const res = r.result;
  // What is shown is what a vote is about: its digest must be the one the service recorded.
  const shownDigest = toHex(sha256(utf8(canonicalize(res))));
  section.append(resultTable(res));
  if (shownDigest !== r.resultDigest) {
    section.append(h('p', { class: 'status bad', role: 'alert' }, `The result shown does not hash to the digest the service recorded (${r.resultDigest}): do not rely on it.`));
    return;
  }
  if (j.state === 'held') {
    const me = session.me();
    if (session.hasRole('reviewer') && me?.id !== j.consumerId) section.append(reviewForm(j, shownDigest, voted));
    else section.append(h('p', { class: 'status' }, 'Held until the reviewers named in the contract\u2019s output policy approve it; the consumer cannot see it before.'));
  }
}

/** The result as a table: a suppressed cell says so, and the suppressed groups are counted in the table's last row. */
export function resultTable(res: ResultDoc): HTMLElement {
  const disc = res.disclosure;
  const suppressedRows = disc?.suppressedRows ?? 0;
  const min = disc?.policy?.minCellCount;
  const notes: string[] = [`Status ${res.status}.`];
  if (disc?.rounded) notes.push(typeof disc.rounded === 'number' ? `Counts are rounded to multiples of ${disc.rounded}.` : 'Counts are rounded.');
  if (disc?.noise) notes.push(`Counts carry ${disc.noise.mechanism ?? ''} noise (\u03b5 = ${disc.noise.epsilon ?? '?'}).`);
  if (res.n !== undefined) notes.push(`${res.n} rows used.`);
  if (res.residualDf !== undefined) notes.push(`${res.residualDf} residual degrees of freedom.`);
  const cols = res.columns ?? [];
  const width = Math.max(1, cols.length);
  const grid = h('table', { id: 'result-table' },
    h('caption', {}, 'Result released under the contract\u2019s output policy'),
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c.name)))),
    h('tbody', {}, ...res.rows.map((row) => h('tr', {}, ...row.map((v) => (v === null
      ? h('td', { class: 'suppressed', title: 'suppressed by the output policy' }, 'suppressed')
      : h('td', { class: typeof v === 'number' ? 'num' : undefined }, String(v))))))),
    suppressedRows > 0 ? h('tfoot', {}, h('tr', { class: 'suppressed', id: 'suppressed-rows' },
      h('td', { colspan: width }, `${suppressedRows} group${suppressedRows === 1 ? '' : 's'} suppressed${min ? ` (fewer than ${min} rows)` : ''}: not shown`))) : null);
  const checks = disc?.checks ?? [];
  return h('div', {},
    h('p', { id: 'result-notes' }, notes.join(' ')),
    res.error ? h('p', { class: 'status bad', id: 'result-error' }, `${res.error.code}${res.error.detail ? `: ${res.error.detail}` : ''}`) : null,
    cols.length > 0 ? grid : null,
    checks.length > 0 ? h('details', {}, h('summary', {}, 'Disclosure checks'),
      h('ul', { id: 'disclosure-checks' }, ...checks.map((c) => h('li', {}, `${c.check}: ${c.outcome}${c.cells !== undefined ? ` (${c.cells} cell${c.cells === 1 ? '' : 's'})` : ''}`)))) : null);
}

function reviewForm(j: JobShown, resultDigest: string, voted: () => Promise<void>): HTMLElement {
  const status = new Status();
  const comment = input('comment', { maxlength: 2000 });
  const vote = async (decision: 'approve' | 'reject', btn: HTMLButtonElement) => {
    const s = session.signer();
    if (!s) return;
    // The vote is signed here over its RFC 8785 bytes, about the digest of the result this page shows.
    const signature = toBase64Url(sign(utf8(canonicalize({ type: 'tds.review.v1', jobId: j.id, resultDigest, decision })), secretKeyFromJwk(s.privateJwk)));
    const done = await run(btn, status, `Sending your signed ${decision === 'approve' ? 'approval' : 'rejection'}…`, () => call<{ state: string; approvals?: number; approvalsNeeded?: number }>('POST', `/v1/jobs/${encodeURIComponent(j.id)}/reviews`, { decision, signature, ...(comment.value ? { comment: comment.value } : {}) }));
    if (!done) return;
    const tally = done.approvals !== undefined && done.approvalsNeeded !== undefined ? ` (${done.approvals} of ${done.approvalsNeeded} approvals)` : '';
    const message = `Your signed ${decision === 'approve' ? 'approval' : 'rejection'} is recorded${tally}; the job is now ${done.state}.`;
    await voted();
    document.getElementById('job-detail')?.prepend(h('p', { class: 'status ok', id: 'vote-recorded', role: 'status' }, message));
  };
  return h('section', { id: 'review' }, h('h3', {}, 'Review'),
    h('p', {}, 'Your vote is signed with your key in this page, over this result\u2019s digest ', h('code', {}, resultDigest), '.'),
    field('Comment (optional)', comment),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: (e: Event) => void vote('approve', e.currentTarget as HTMLButtonElement) }, 'Approve release'),
      h('button', { type: 'button', class: 'danger', onclick: (e: Event) => void vote('reject', e.currentTarget as HTMLButtonElement) }, 'Reject')),
    status.el);
}
