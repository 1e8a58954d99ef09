/**
 * Running a job from a contract without wasting the invocation: before the
 * request, a confirmation saying how many invocations are left (a release
 * or a submitted analysis is counted at once and never given back); after a
 * download release, the release token (copyable) and the exact commands that
 * fetch the file with it, since the page talks only to this service and so
 * cannot download from the provider's gateway itself.
 */
import { call } from '../api.js';
import { h, Status, when } from '../dom.js';
import type { ContractView } from '../../../agreements/contract-view.js';
import type { ReleaseView } from '../../../jobs/release-token.js';

/** What the page needs to ask before spending an invocation. */
export interface ConfirmSpend {
  contractId: string;
  /** What the confirm button says after "Use an invocation: ". */
  action: string;
  /** Why it cannot be given back, for this kind of job. */
  why: string;
}

/**
 * Ask before spending: reads the contract's invocations left now (GET
 * /v1/contracts/:id), shows them with a confirm and a cancel button in
 * `into`, and resolves true only when the confirm button is pressed.
 */
export async function confirmSpend(into: HTMLElement, c: ConfirmSpend): Promise<boolean> {
  const status = new Status();
  into.replaceChildren(status.el);
  status.wait('Reading how many invocations this contract has left…');
  let now: ContractView;
  try {
    now = await call<ContractView>('GET', `/v1/contracts/${encodeURIComponent(c.contractId)}`);
  } catch (e) {
    status.error(e);
    return false;
  }
  status.clear();
  const left = now.invocationsRemaining;
  const max = now.document.maxInvocations;
  if (left !== undefined && left <= 0) {
    into.replaceChildren(h('p', { class: 'status bad', id: 'job-confirm', role: 'alert' }, `No invocations are left on this contract (all ${max} used): the service would refuse the job.`));
    return false;
  }
  const count = left === undefined ? `one of the ${max} invocations of this contract` : `1 of the ${left} invocation${left === 1 ? '' : 's'} left on this contract (of ${max}; ${left - 1} will be left)`;
  return new Promise<boolean>((resolve) => {
    const done = (yes: boolean) => {
      into.replaceChildren();
      resolve(yes);
    };
    const yes = h('button', { type: 'button', id: 'job-confirm-yes', onclick: () => done(true) }, `Use an invocation: ${c.action}`);
    into.replaceChildren(h('div', { class: 'status warn', id: 'job-confirm', role: 'group', 'aria-label': 'Confirm using an invocation' },
      h('p', {}, h('strong', {}, `This uses ${count}.`), ` ${c.why}`),
      h('p', { class: 'row' }, yes, h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel'))));
    yes.focus();
  });
}

/** A file name for the release's URL: its last path segment, in safe characters. */
function fileNameOf(url: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    // an unparsable URL keeps the default name
  }
  return last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]+/, '') || 'dataset';
}

/** A word as a POSIX shell reads it back unchanged. */
function sh(word: string): string {
  return /^[A-Za-z0-9._:/=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command in a box, with a button that copies it. */
function copyable(id: string, text: string, label: string, multiline = false): HTMLElement {
  const status = new Status();
  const box = multiline ? h('textarea', { id, class: 'token', readonly: true, rows: 3, spellcheck: 'false', 'aria-label': label }, text) : h('pre', { class: 'mono command', id }, text);
  const copy = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.ok('Copied.');
    } catch {
      // No clipboard (permission, insecure origin): select it for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents(box);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      if (box instanceof HTMLTextAreaElement) box.select();
      status.info('Selected: press Ctrl+C (or ⌘C) to copy.');
    }
  } }, `Copy ${label}`);
  return h('div', {}, box, h('p', { class: 'row' }, copy), status.el);
}

/** How the job was asked for, so the tds command can ask for the same job again (no further invocation). */
export interface JobRequestShown {
  contractId: string;
  purpose: string;
  idempotencyKey: string;
}

/**
 * A download release: the token, until when it holds, and the two ways to
 * fetch the file with it. `tds job run` with the same Idempotency-Key answers
 * this same job without using another invocation, downloads with its token,
 * checks size and SHA-256, reports the job completed and saves the receipt;
 * curl fetches the file only.
 */
export function releaseView(jobId: string, release: ReleaseView, asked?: JobRequestShown): HTMLElement {
  const file = fileNameOf(release.url);
  const token = release.token ?? '';
  const tds = asked && `tds job run --contract ${sh(asked.contractId)} --purpose ${sh(asked.purpose)} --idempotency-key ${sh(asked.idempotencyKey)} --out ${sh(file)}`;
  const curl = `curl -fS -o ${sh(file)} -H ${sh(`Authorization: Bearer ${token}`)} ${sh(release.url)}\necho ${sh(`${release.sha256}  ${file}`)} | sha256sum -c -`;
  return h('section', { id: 'release', 'aria-labelledby': 'release-title' },
    h('h3', { id: 'release-title' }, 'Fetch the released file'),
    h('p', {}, 'The invocation is used: the dataset is released to you. This page talks only to the service, so it does not download the file from the provider\u2019s gateway; fetch it with the token below before it expires ',
      when(release.expiresAt), `. The token downloads once${tds ? ': use one of the two commands, not both' : ''}.`),
    h('p', {}, 'File ', h('code', {}, release.url), `, ${release.byteSize} bytes, SHA-256 `, h('code', {}, release.sha256), '.'),
    token ? copyable('release-token', token, 'the release token', true) : h('p', { class: 'status bad' }, 'The service sent no release token.'),
    tds ? [h('h4', {}, 'With tds (recommended)'),
      h('p', {}, 'With your key file, as for any tds command. The same idempotency key answers this same job without using another invocation; tds downloads the file with its token, checks size and SHA-256, reports the job completed and saves the receipt.'),
      copyable('tds-command', tds, 'the tds command')] : [],
    h('h4', {}, 'With curl'),
    h('p', {}, 'Fetches the file and checks its SHA-256, nothing else: the service still sees the job as authorized (report a failed download with ', h('code', {}, `tds job fail ${jobId} --reason …`), ').'),
    copyable('curl-command', curl, 'the curl commands'));
}
