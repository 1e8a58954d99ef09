/**
 * A compute job's signed result, checked before it is shown, as `tds job
 * result` checks it: its RFC 8785 bytes hash to the digest the service
 * recorded, it names this job and contract, and the provider's Ed25519
 * signature over those bytes verifies with one of the provider's keys from
 * the service's participant directory (verifyingKey of
 * jobs/result-verification.ts, the check the service ran when it took the
 * result). A result that fails any check is not shown as a table at all.
 * The heading says what the result is: held for review, rejected or
 * released. A named reviewer votes on a held result here, signing in the
 * page over the digest of the result shown.
 */
import { canonicalize } from '../../../crypto/canonical-json.js';
import { secretKeyFromJwk, sign } from '../../../crypto/ed25519.js';
import { toBase64Url, utf8 } from '../../../crypto/sha256.js';
import { canonicalResult, verifyingKey, type ResultDocument } from '../../../jobs/result-verification.js';
import type { ParticipantView } from '../../../participants/participant-view.js';
import { call } from '../api.js';
import { errorBox, field, h, input, run, Status } from '../dom.js';
import { reasonText } from '../reasons.js';
import * as session from '../session.js';

/** What the result view needs to know of its job. */
export interface JobOfResult {
  id: string;
  state: string;
  contractId: string;
  providerId?: string;
  consumerId?: string;
  resultDigest?: string | null;
  createdAt?: string;
}

/** GET /v1/jobs/:id/result: the signed result for its readers, digest and status for the others. */
interface ResultAnswer {
  result?: ResultDocument;
  signature?: string;
  kid?: string;
  resultDigest: string;
  status: string;
  state: string;
}

/** The heading of a result: what it is, in the state the job is in. */
export function resultHeading(state: string): string {
  if (state === 'held') return 'Result held for review (not released)';
  if (state === 'rejected') return 'Result rejected (not released)';
  if (state === 'completed') return 'Result released under the contract\u2019s output policy';
  return `Result (job ${state})`;
}

/**
 * Every way the result fails the page's checks (empty: it passes), and who
 * signed it. Keys rotated out before the job was created do not count, as
 * the service does not count them.
 */
async function checkResult(j: JobOfResult, r: ResultAnswer & { result: ResultDocument }): Promise<{ problems: string[]; signedBy?: string }> {
  const problems: string[] = [];
  const { canonical, resultDigest } = canonicalResult(r.result);
  if (resultDigest !== r.resultDigest) problems.push(`the result shown hashes to ${resultDigest}, not to the digest the service recorded (${r.resultDigest})`);
  if (j.resultDigest && j.resultDigest !== resultDigest) problems.push(`the result shown hashes to ${resultDigest}, not to the job's result digest ${j.resultDigest}`);
  if (r.result.jobId !== j.id) problems.push(`the result names another job (${String(r.result.jobId)})`);
  if (r.result.contractId !== j.contractId) problems.push(`the result names another contract (${String(r.result.contractId)})`);
  if (!j.providerId) {
    problems.push('the provider of this job is not known to the page, so its signature cannot be checked');
    return { problems };
  }
  const provider = await call<ParticipantView>('GET', `/v1/participants/${encodeURIComponent(j.providerId)}`);
  const since = j.createdAt ? Date.parse(j.createdAt) : Number.NaN;
  const keys = provider.keys
    .filter((k) => k.revokedAt === null || Number.isNaN(since) || Date.parse(k.revokedAt) > since)
    .map((k) => ({ kid: k.kid, public_jwk: k.publicKeyJwk }));
  const kid = r.signature ? verifyingKey(canonical, r.signature, keys) : null;
  if (!kid) {
    problems.push(`the provider's signature does not verify over the result's bytes with any key the directory lists for ${provider.name} (${provider.id})`);
    return { problems };
  }
  return { problems, signedBy: `${provider.name} with key ${kid}` };
}

/** Fetch, check and show the result of a compute job under `into`. */
export async function showResult(j: JobOfResult, into: HTMLElement, voted: () => Promise<void>): Promise<void> {
  const status = new Status();
  const title = h('h3', { id: 'result-title' }, resultHeading(j.state));
  const section = h('section', { id: 'job-result-view', 'aria-labelledby': 'result-title' }, title, status.el);
  into.append(section);
  const r = await run(null, status, 'Fetching the signed result…', () => call<ResultAnswer>('GET', `/v1/jobs/${encodeURIComponent(j.id)}/result`));
  if (!r) return;
  if (!r.result) {
    status.clear();
    section.append(h('p', {}, `Result ${r.status}, digest `, h('code', {}, r.resultDigest), ' (its rows are for the parties and reviewers only).'));
    return;
  }
  status.wait('Checking the result: its digest, and the provider\u2019s signature with the keys in the service\u2019s directory…');
  let checked: Awaited<ReturnType<typeof checkResult>>;
  try {
    checked = await checkResult(j, r as ResultAnswer & { result: ResultDocument });
  } catch (e) {
    status.clear();
    title.textContent = 'Result not shown: it could not be checked';
    section.append(errorBox(e));
    return;
  }
  status.clear();
  if (checked.problems.length > 0) {
    // Nothing of a result that fails the checks is shown: no table to be read as if it were the released one.
    title.textContent = 'Result refused: it fails this page\u2019s checks';
    section.append(h('div', { class: 'status bad', role: 'alert', id: 'result-refused' },
      h('p', {}, h('strong', {}, 'Do not rely on what the service sent as this job\u2019s result:')),
      h('ul', {}, ...checked.problems.map((p) => h('li', {}, p)))));
    return;
  }
  const res = r.result;
  section.append(
    h('p', { class: 'status ok', id: 'result-checked' }, `Provider\u2019s signature verified: signed by ${checked.signedBy} (key from the service\u2019s participant directory); the result hashes to the digest the service recorded, `, h('code', {}, r.resultDigest), '.'),
    resultTable(res, resultHeading(j.state)));
  if (j.state === 'held') {
    const me = session.me();
    if (session.hasRole('reviewer') && me?.id !== j.consumerId) section.append(reviewForm(j, r.resultDigest, voted));
    else section.append(h('p', { class: 'status' }, 'Held until the reviewers named in the contract\u2019s output policy approve it; the consumer cannot see it before.'));
  }
}

/** The result as a table (captioned `caption`): a suppressed cell says so, and the suppressed groups are counted in the table's last row. */
export function resultTable(res: ResultDocument, caption: string): HTMLElement {
  const disc = res.disclosure as ResultDocument['disclosure'] & { policy?: { minCellCount?: number }; noise?: { mechanism?: string; epsilon?: number } | null };
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
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c.name)))),
    h('tbody', {}, ...res.rows.map((row) => h('tr', {}, ...row.map((v) => (v === null
      ? h('td', { class: 'suppressed', title: 'suppressed by the output policy' }, 'suppressed')
      : h('td', { class: typeof v === 'number' ? 'num' : undefined }, String(v))))))),
    suppressedRows > 0 ? h('tfoot', {}, h('tr', { class: 'suppressed', id: 'suppressed-rows' },
      h('td', { colspan: width }, `${suppressedRows} group${suppressedRows === 1 ? '' : 's'} suppressed${min ? ` (fewer than ${min} rows)` : ''}: not shown`))) : null);
  const checks = disc?.checks ?? [];
  return h('div', {},
    h('p', { id: 'result-notes' }, notes.join(' ')),
    res.error ? h('p', { class: 'status bad', id: 'result-error' }, `Failed: ${reasonText(res.error.code)}${res.error.detail ? `: ${res.error.detail}` : ''}`) : null,
    cols.length > 0 ? grid : null,
    checks.length > 0 ? h('details', {}, h('summary', {}, 'Disclosure checks'),
      h('ul', { id: 'disclosure-checks' }, ...checks.map((c) => h('li', {}, `${c.check}: ${c.outcome}${c.cells !== undefined ? ` (${c.cells} cell${c.cells === 1 ? '' : 's'})` : ''}`)))) : null);
}

function reviewForm(j: JobOfResult, resultDigest: string, voted: () => Promise<void>): HTMLElement {
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
