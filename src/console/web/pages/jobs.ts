/**
 * Jobs: the caller's jobs (GET /v1/jobs, as consumer or provider), one job's
 * state, its result as a table with suppressed cells marked, and — for a
 * reviewer or provider of a held result — a signed approve/reject vote.
 */
import { canonicalize } from '../../../crypto/canonical-json.js';
import { secretKeyFromJwk, sign } from '../../../crypto/ed25519.js';
import { sha256, toBase64Url, toHex, utf8 } from '../../../crypto/sha256.js';
import { ApiError, call, query, type Page } from '../api.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import * as session from '../session.js';

interface JobView {
  id: string;
  state: string;
  contractId: string;
  datasetId?: string;
  access?: string;
  purpose?: string;
  reason?: string | null;
  resultDigest?: string | null;
  createdAt?: string;
  authorizedAt?: string;
}

interface ResultDoc {
  status: string;
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  disclosure?: { suppressedRows?: number; rounded?: boolean; checks?: Array<{ check: string; outcome: string; cells?: number }> };
  error?: string;
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
  const id = params.get('id');
  if (id) await showJob(id, detail);
  await showList(list);
}

async function showList(into: HTMLElement): Promise<void> {
  const status = new Status();
  const roles = ['consumer', 'provider'].filter((r) => session.hasRole(r));
  const role = select('role', roles.map((r) => [r, r === 'consumer' ? 'jobs I asked for' : 'jobs on my data']));
  const state = select('state', [['', 'any state'], ...['queued', 'running', 'held', 'completed', 'rejected', 'failed', 'authorized'].map((s): [string, string] => [s, s])]);
  const body = h('div', {});
  const form = h('form', { class: 'row' }, field('Show', role), field('State', state), h('button', { type: 'submit' }, 'List'));
  into.replaceChildren(h('h2', {}, 'Your jobs'), form, status.el, body);
  const load = async () => {
    status.wait('Loading your jobs…');
    try {
      const page = await call<Page<JobView>>('GET', `/v1/jobs${query({ role: role.value, state: state.value, limit: 50 })}`);
      status.clear();
      body.replaceChildren(page.items.length === 0 ? h('p', {}, 'No jobs.') : table('Jobs', ['Job', 'Contract', 'State', 'Access', 'Since'], page.items.map((j) => [
        h('a', { href: `#/jobs?id=${encodeURIComponent(j.id)}` }, j.id), h('a', { href: `#/contracts?id=${encodeURIComponent(j.contractId)}` }, j.contractId), j.state, j.access ?? 'download', when(j.createdAt ?? j.authorizedAt),
      ])));
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'ROUTE_NOT_FOUND' || e.code === 'NOT_FOUND')) status.info('This service does not list jobs yet: open one by its id above.');
      else status.error(e);
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  if (roles.length > 0) await load();
}

async function showJob(id: string, into: HTMLElement): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, `Job ${id}`), status.el);
  const j = await run(null, status, 'Loading the job…', () => call<JobView>('GET', `/v1/jobs/${encodeURIComponent(id)}`));
  if (!j) return;
  status.clear();
  into.append(h('dl', { class: 'terms', id: 'job-facts' },
    h('dt', {}, 'State'), h('dd', { id: 'job-state' }, j.state),
    h('dt', {}, 'Contract'), h('dd', {}, h('a', { href: `#/contracts?id=${encodeURIComponent(j.contractId)}` }, j.contractId)),
    j.purpose ? [h('dt', {}, 'Purpose'), h('dd', {}, j.purpose)] : null,
    j.reason ? [h('dt', {}, 'Reason'), h('dd', {}, j.reason)] : null,
    j.resultDigest ? [h('dt', {}, 'Result digest'), h('dd', {}, h('code', {}, j.resultDigest))] : null));
  into.append(receiptButton(j.id));
  if (j.access === 'compute' && ['held', 'completed', 'rejected'].includes(j.state)) await showResult(j, into);
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

async function showResult(j: JobView, into: HTMLElement): Promise<void> {
  const status = new Status();
  into.append(h('h3', {}, 'Result'), status.el);
  const r = await run(null, status, 'Fetching the signed result…', () => call<{ result: ResultDoc & Record<string, unknown>; signature: string; state: string }>('GET', `/v1/jobs/${encodeURIComponent(j.id)}/result`));
  if (!r) return;
  status.clear();
  const res = r.result;
  const disc = res.disclosure;
  into.append(h('p', {}, `Status ${res.status}. `, disc?.suppressedRows ? `${disc.suppressedRows} group(s) below the minimum cell count were not released. ` : '', disc?.rounded ? 'Counts are rounded. ' : '', res.error ? `Error: ${res.error}` : ''));
  if (res.columns?.length) {
    into.append(h('table', { id: 'result-table' },
      h('thead', {}, h('tr', {}, ...res.columns.map((c) => h('th', { scope: 'col' }, c.name)))),
      h('tbody', {}, ...res.rows.map((row) => h('tr', {}, ...row.map((v) => (v === null ? h('td', { class: 'suppressed' }, 'suppressed') : h('td', {}, String(v)))))))));
  }
  if (j.state === 'held' && (session.hasRole('reviewer') || session.hasRole('provider'))) into.append(reviewForm(j, res));
}

function reviewForm(j: JobView, result: unknown): HTMLElement {
  const status = new Status();
  const comment = input('comment');
  const vote = async (decision: 'approve' | 'reject', btn: HTMLButtonElement) => {
    const s = session.signer();
    if (!s) return;
    // The vote is signed here over its RFC 8785 bytes; the digest is of the result the page just showed.
    const resultDigest = toHex(sha256(utf8(canonicalize(result))));
    const signature = toBase64Url(sign(utf8(canonicalize({ type: 'tds.review.v1', jobId: j.id, resultDigest, decision })), secretKeyFromJwk(s.privateJwk)));
    const done = await run(btn, status, `Sending your signed ${decision}…`, () => call<{ state: string }>('POST', `/v1/jobs/${encodeURIComponent(j.id)}/reviews`, { decision, signature, ...(comment.value ? { comment: comment.value } : {}) }));
    if (done) status.ok(`Vote recorded; the job is now ${done.state}.`);
  };
  return h('section', {}, h('h3', {}, 'Review'),
    field('Comment (optional)', comment),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: (e: Event) => void vote('approve', e.currentTarget as HTMLButtonElement) }, 'Approve release'),
      h('button', { type: 'button', class: 'danger', onclick: (e: Event) => void vote('reject', e.currentTarget as HTMLButtonElement) }, 'Reject')),
    status.el);
}
