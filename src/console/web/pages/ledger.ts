/**
 * The auditor's ledger: nothing shown is trusted because the service says so.
 * The checkpoint is verified against the log key the auditor pinned (and
 * witness cosignatures when witness keys are pinned), its consistency with
 * the last checkpoint this browser verified (kept in IndexedDB with the full
 * note) is proven, every shown entry's inclusion proof is checked against the
 * signed root, and the whole log can be re-verified in a Web Worker. All of it
 * runs the pure modules of src/ledger and src/crypto that `tds verify` runs.
 */
import { canonicalize } from '../../../crypto/canonical-json.js';
import { fromBase64, toBase64 } from '../../../crypto/sha256.js';
import { openNote, parseVerifierKey, type ParsedCheckpoint } from '../../../ledger/checkpoint.js';
import { parseCosignerKey, verifyCosignedCheckpoint } from '../../../ledger/cosignature.js';
import { leafHashOfText } from '../../../ledger/ledger-entry.js';
import { verifyConsistency, verifyInclusion } from '../../../ledger/merkle.js';
import type { ServedEntry } from '../../../ledger/verify-log.js';
import { ApiError, call, query } from '../api.js';
import { errorBox, field, h, input, Status, table, when } from '../dom.js';
import * as store from '../store.js';
import type { FromWorker, ToWorker } from '../verify.worker.js';

interface EntriesPage { treeSize: number; entries: Array<ServedEntry & { entry: Record<string, unknown> }> }

/** A checkpoint verified in this page: the note and what it says. */
interface Verified { note: string; checkpoint: ParsedCheckpoint; origin: string }

const PAGE = 20;
const FETCH = 1000;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Render the ledger page. */
export async function ledgerPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const pins = (await store.load<store.Pins>(store.PINS)) ?? { logKey: '', witnessKeys: [], quorum: 0 };
  const cpSection = h('section', { id: 'checkpoint', 'aria-live': 'polite' });
  const entriesSection = h('section', { id: 'entries' });
  const fullSection = h('section', { id: 'full-verification' });
  main.append(h('h1', {}, 'Ledger'), pinForm(pins, () => {
    // Re-render in place: a reload would drop the key held in memory.
    main.replaceChildren();
    void ledgerPage(main, params);
  }), cpSection, fullSection, entriesSection);
  if (!pins.logKey) {
    cpSection.append(h('p', { class: 'status' }, 'Pin the log key first: take it from a source you trust (the operator\u2019s published key, a colleague), not only from this service.'));
    return;
  }
  const verified = await checkCheckpoint(pins, cpSection);
  if (!verified) return;
  fullVerification(pins, verified, fullSection);
  await entriesView(verified, entriesSection, params);
}

function pinForm(pins: store.Pins, saved: () => void): HTMLElement {
  const status = new Status();
  const key = h('textarea', { name: 'logKey', rows: 2, id: 'log-key', spellcheck: 'false' }, pins.logKey);
  const witnesses = h('textarea', { name: 'witnessKeys', rows: 2, id: 'witness-keys', spellcheck: 'false' }, pins.witnessKeys.join('\n'));
  const quorum = input('quorum', { type: 'number', min: 0, value: pins.quorum, id: 'quorum' });
  const form = h('form', { id: 'pin-form' },
    field('Pinned log key', key, 'The verifier key <origin>+<key id>+<key> of this ledger.'),
    field('Witness keys (one per line, optional)', witnesses, 'Verifier keys <name>+<key id>+<key> as `tds witness vkey` prints them.'),
    field('Witness cosignatures required', quorum),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Pin these keys'),
      h('button', { type: 'button', class: 'secondary', id: 'show-announced', onclick: async () => {
        status.wait('Asking the service which key it announces…');
        try {
          const announced = (await call<string>('GET', '/v1/ledger/key')).trim();
          status.info(h('span', {}, 'The service announces ', h('code', { id: 'announced-key' }, announced), '. Compare it with the key you got elsewhere before pinning it.'));
          if (!key.value.trim()) key.value = announced;
        } catch (e) {
          status.error(e);
        }
      } }, 'Show the key the service announces')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      parseVerifierKey(key.value.trim());
      const ws = witnesses.value.split('\n').map((l) => l.trim()).filter(Boolean);
      for (const w of ws) parseCosignerKey(w);
      if ((Number(quorum.value) || 0) > ws.length) throw new Error(`a quorum of ${quorum.value} needs at least as many witness keys`);
      await store.save(store.PINS, { logKey: key.value.trim(), witnessKeys: ws, quorum: Number(quorum.value) || 0 } satisfies store.Pins);
      saved();
    } catch (err) {
      status.error(new Error(`not pinned: ${message(err)}`));
    }
  });
  return h('details', { open: !pins.logKey }, h('summary', { id: 'pinned-key' }, pinnedSummary(pins.logKey)), form, status.el);
}

/** The summary of the pin: the log's origin and the key id, so a changed key under the same origin shows. */
function pinnedSummary(logKey: string): string {
  if (!logKey) return 'Pin the log key';
  const [origin, keyId] = logKey.split('+');
  return `Pinned log key: ${origin}, key id ${keyId} (change)`;
}

/** Verify the served checkpoint with the pinned key and its consistency with the last one verified here. */
async function checkCheckpoint(pins: store.Pins, into: HTMLElement): Promise<Verified | undefined> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, 'Checkpoint'), status.el);
  status.wait('Fetching the signed checkpoint…');
  let note: string;
  try {
    note = await call<string>('GET', '/v1/ledger/checkpoint');
  } catch (e) {
    status.error(e);
    return undefined;
  }
  const verifier = parseVerifierKey(pins.logKey);
  let opened: { checkpoint: ParsedCheckpoint; cosigned: Array<{ name: string; timestamp: number }> };
  try {
    // The log's signature with the pinned key, then the pinned witnesses' cosignatures and the quorum.
    opened = verifyCosignedCheckpoint(note, verifier, pins.witnessKeys.map((w) => parseCosignerKey(w)), pins.quorum);
  } catch (e) {
    const byLog = (() => {
      try {
        openNote(note, verifier, verifier.name);
        return true;
      } catch {
        return false;
      }
    })();
    into.append(h('div', { class: 'status bad', role: 'alert', id: 'checkpoint-refused' },
      h('p', {}, h('strong', {}, byLog ? 'Checkpoint refused: the witness quorum you pinned is not met.' : 'Checkpoint refused: it is not signed by the log key you pinned.')),
      h('p', { class: 'detail' }, message(e)),
      h('p', {}, 'Nothing below is shown, because nothing could be checked against a root you trust.')),
      h('pre', { class: 'mono' }, note));
    status.clear();
    return undefined;
  }
  const cp = opened.checkpoint;
  const facts: Array<Node | string> = [h('p', { class: 'status ok', id: 'checkpoint-ok' }, `Checkpoint signature verified with the pinned key ${verifier.name}: ${cp.size} entries, root ${toBase64(cp.rootHash)}.`)];
  if (pins.witnessKeys.length > 0) {
    facts.push(h('p', { class: 'status ok', id: 'witness-status' }, `Cosigned by ${opened.cosigned.length} of ${pins.witnessKeys.length} pinned witness(es) (quorum ${pins.quorum}): `,
      opened.cosigned.map((c) => `${c.name} at ${new Date(c.timestamp * 1000).toISOString()}`).join(', ') || 'none', '.'));
  }
  facts.push(await consistencyCheck(verifier.name, note, cp, verifier));
  status.clear();
  into.append(...facts);
  return { note, checkpoint: cp, origin: verifier.name };
}

async function consistencyCheck(origin: string, note: string, cp: ParsedCheckpoint, verifier: ReturnType<typeof parseVerifierKey>): Promise<HTMLElement> {
  const saved = await store.load<store.SavedCheckpoint>(store.checkpointKey(origin));
  const keep = () => store.save(store.checkpointKey(origin), { origin, size: cp.size, rootHash: toBase64(cp.rootHash), note, verifiedAt: new Date().toISOString() } satisfies store.SavedCheckpoint);
  const refuse = async (why: string) => {
    await store.save(store.conflictKey(origin), { origin, size: cp.size, rootHash: toBase64(cp.rootHash), note, verifiedAt: new Date().toISOString() } satisfies store.SavedCheckpoint);
    return h('div', { class: 'status bad', role: 'alert', id: 'consistency' },
      h('p', {}, h('strong', {}, `Not consistent with the checkpoint verified here on ${saved!.verifiedAt}: ${why}`)),
      h('p', {}, 'Both checkpoints are kept in this browser as evidence:'),
      h('pre', { class: 'mono' }, saved!.note), h('pre', { class: 'mono' }, note));
  };
  if (!saved) {
    await keep();
    return h('p', { class: 'status', id: 'consistency' }, 'First visit from this browser: this checkpoint is kept as the reference for the next visit.');
  }
  try {
    // The kept note must itself still verify with the pinned key (the pin may have changed).
    openNote(saved.note, verifier, origin);
  } catch {
    await keep();
    return h('p', { class: 'status', id: 'consistency' }, 'The checkpoint kept from an earlier visit is not signed by the key now pinned; this one replaces it as the reference.');
  }
  try {
    if (saved.size > cp.size) return await refuse(`the ledger shrank from ${saved.size} to ${cp.size} entries (rolled back).`);
    if (saved.size > 0) {
      const proof = saved.size === cp.size ? [] : (await call<{ proof: string[] }>('GET', `/v1/ledger/proofs/consistency${query({ from: saved.size, to: cp.size })}`)).proof;
      verifyConsistency(saved.size, cp.size, proof.map((p) => fromBase64(p)), fromBase64(saved.rootHash), cp.rootHash);
    }
  } catch (e) {
    if (e instanceof ApiError) return errorBox(e);
    return await refuse(message(e));
  }
  await keep();
  return h('p', { class: 'status ok', id: 'consistency' }, `Consistent with the checkpoint of ${saved.size} entries verified here on ${saved.verifiedAt}: the ledger only grew.`);
}

/** Fetch entries [start, end) in pages of FETCH, calling `each` with every page until it returns false. */
async function fetchRange(start: number, end: number | undefined, each: (p: EntriesPage) => void | boolean | Promise<void | boolean>): Promise<number> {
  let next = start;
  for (;;) {
    const limit = end === undefined ? FETCH : Math.min(FETCH, end - next);
    if (limit <= 0) return next;
    const page = await call<EntriesPage>('GET', `/v1/ledger/entries${query({ start: next, limit })}`);
    if (page.entries.length === 0) return next;
    const more = await each(page);
    next += page.entries.length;
    if (more === false) return next;
  }
}

function fullVerification(pins: store.Pins, v: Verified, into: HTMLElement): void {
  const progress = h('progress', { max: 1, value: 0, id: 'verify-progress', 'aria-label': 'Full verification progress' });
  const label = h('p', { id: 'verify-label', 'aria-live': 'polite' }, 'Not started.');
  const result = h('div', { id: 'verify-result', 'aria-live': 'assertive' });
  const button = h('button', { type: 'button', id: 'verify-all' }, 'Verify the whole ledger');
  into.append(h('h2', {}, 'Full verification'),
    h('p', {}, 'Fetches every entry and, in a background worker, recomputes every leaf hash, the hash chain and the Merkle root, and checks them against the signed checkpoint.'),
    button, progress, label, result);
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.replaceChildren();
    const worker = new Worker(new URL('../verify.worker.ts', import.meta.url), { type: 'module' });
    const post = (m: ToWorker) => worker.postMessage(m);
    const saved = await store.load<store.SavedCheckpoint>(store.checkpointKey(v.origin));
    try {
      const total = v.checkpoint.size;
      progress.max = Math.max(1, total * 2);
      // The signed tree is what can be verified; newer entries wait for the next checkpoint.
      const fetched = await fetchRange(0, total, (p) => {
        post({ type: 'entries', entries: p.entries });
        progress.value = Math.min(total, p.entries[p.entries.length - 1]!.index + 1);
        label.textContent = `Fetching entries: ${p.entries[p.entries.length - 1]!.index + 1} of ${Math.max(total, p.treeSize)}…`;
      });
      label.textContent = `Fetched ${fetched} entries; verifying them in the background…`;
      const outcome = await new Promise<Extract<FromWorker, { type: 'result' }>>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<FromWorker>) => {
          const m = e.data;
          if (m.type === 'progress') {
            progress.value = total + Math.min(total, m.checked);
            label.textContent = `Verifying: ${m.checked} of ${m.total} entries checked…`;
          } else if (m.type === 'proof') {
            // The worker is locating an altered entry: it needs signed proof requests, which only the page can make.
            label.textContent = `The entries disagree with the checkpoint; locating the first altered entry (proof for entry ${m.index})…`;
            call<{ leafHash: string; proof: string[] }>('GET', `/v1/ledger/proofs/inclusion${query({ index: m.index, treeSize: m.treeSize })}`)
              .then((answer) => post({ type: 'proof', id: m.id, answer }), (err: unknown) => post({ type: 'proof', id: m.id, error: (err as Error).message }));
          } else resolve(m);
        };
        worker.onerror = (e) => reject(new Error(`the verification worker failed: ${e.message}`));
        // The reference for consistency is the checkpoint verified before this one, when it differs.
        const previous = saved && saved.size < v.checkpoint.size ? { size: saved.size, rootHash: saved.rootHash } : undefined;
        post({ type: 'verify', checkpointNote: v.note, verifierKey: pins.logKey, previous });
      });
      progress.value = progress.max;
      const rate = outcome.millis > 0 ? Math.round(outcome.entries / (outcome.millis / 1000)) : outcome.entries;
      label.textContent = `Done: ${outcome.entries} entries checked in ${(outcome.millis / 1000).toFixed(2)} s (${rate} entries/s).`;
      label.dataset.rate = String(rate);
      label.dataset.millis = String(outcome.millis);
      const r = outcome.result;
      result.replaceChildren(r.ok
        ? h('p', { class: 'status ok', id: 'verify-ok' }, `The whole ledger verifies: ${r.entries} entries, chain and Merkle root match the checkpoint of ${r.size} entries signed by the pinned key.`)
        : h('div', { class: 'status bad', role: 'alert', id: 'verify-bad' },
          h('p', {}, h('strong', { id: 'first-bad' }, r.firstBadIndex === null ? 'The ledger does NOT verify (no single entry can be named).' : `The ledger does NOT verify: first bad index ${r.firstBadIndex}.`)),
          h('p', { class: 'detail' }, `${r.problem} (${r.code})`),
          r.firstBadIndex !== null ? h('p', {}, h('a', { href: `#/ledger?start=${Math.max(0, r.firstBadIndex - 2)}` }, `Show entries around ${r.firstBadIndex}`)) : null));
    } catch (e) {
      result.replaceChildren(errorBox(e));
      label.textContent = 'Stopped.';
    } finally {
      worker.terminate();
      button.disabled = false;
    }
  });
}

type Row = ServedEntry & { entry: Record<string, unknown> };

function matches(row: Row, f: Record<string, string>): boolean {
  const e = row.entry;
  const subjects = (e.subjects ?? {}) as Record<string, unknown>;
  if (f.kind && e.kind !== f.kind) return false;
  if (f.dataset && subjects.dataset !== f.dataset) return false;
  if (f.contract && subjects.contract !== f.contract) return false;
  if (f.participant && e.actor !== f.participant && !Object.values(subjects).includes(f.participant)) return false;
  return true;
}

/** The entries page by page (or filtered), each with its inclusion proof checked against the verified root. */
async function entriesView(v: Verified, into: HTMLElement, params: URLSearchParams): Promise<void> {
  const filters = { kind: params.get('kind') ?? '', dataset: params.get('dataset') ?? '', contract: params.get('contract') ?? '', participant: params.get('participant') ?? '' };
  const start = Math.max(0, Number(params.get('start') ?? 0) || 0);
  const form = h('form', { id: 'ledger-filters', class: 'row', role: 'search' },
    field('Kind', input('kind', { value: filters.kind, list: 'kinds' })),
    field('Dataset id', input('dataset', { value: filters.dataset })),
    field('Contract id', input('contract', { value: filters.contract })),
    field('Participant id', input('participant', { value: filters.participant })),
    field('From index', input('start', { type: 'number', min: 0, value: start })),
    h('button', { type: 'submit' }, 'Show'),
    h('datalist', { id: 'kinds' }, ...['participant.registered', 'participant.approved', 'dataset.published', 'offer.created', 'contract.proposed', 'contract.signed', 'contract.activated', 'job.authorized', 'job.denied', 'job.completed'].map((k) => h('option', { value: k }))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const q = new URLSearchParams();
    for (const [k, val] of fd) if (String(val).trim() && !(k === 'start' && String(val) === '0')) q.set(k, String(val).trim());
    location.hash = `#/ledger?${q.toString()}`;
  });
  const status = new Status();
  const body = h('div', {});
  into.replaceChildren(h('h2', {}, 'Entries'), form, status.el, body);
  const filtered = Object.values(filters).some(Boolean);
  let rows: Row[] = [];
  // Filtered pages are keyset pages over the index: the next one starts after the last entry shown.
  let nextStart: number | null = null;
  try {
    if (filtered) {
      status.wait('Scanning the ledger for matching entries…');
      await fetchRange(start, undefined, (p) => {
        for (const r of p.entries as Row[]) {
          if (!matches(r, filters)) continue;
          if (rows.length < PAGE) rows.push(r);
          else {
            nextStart = rows[rows.length - 1]!.index + 1;
            return false;
          }
        }
        status.wait(`Scanning the ledger for matching entries: ${p.entries[p.entries.length - 1]!.index + 1} read…`);
        return true;
      });
    } else {
      status.wait(`Fetching entries ${start} to ${start + PAGE - 1}…`);
      await fetchRange(start, start + PAGE, (p) => void rows.push(...(p.entries as Row[])));
      if (rows.length === PAGE) nextStart = start + PAGE;
    }
  } catch (e) {
    status.error(e);
    return;
  }
  rows = rows.slice(0, PAGE);
  status.wait(`Checking the inclusion proof of ${rows.length} entries against the signed root…`);
  const proofs = await Promise.all(rows.map((r) => proofCell(r, v.checkpoint)));
  const range = rows.length > 0 ? ` (indexes ${rows[0]!.index} to ${rows[rows.length - 1]!.index})` : '';
  status.info(filtered
    ? `${rows.length} matching entr${rows.length === 1 ? 'y' : 'ies'} from index ${start}${range}${nextStart !== null ? '; more on the next page' : '; no more match'}.`
    : `Entries ${start} to ${start + rows.length - 1}.`);
  const link = (to: number) => {
    const q = new URLSearchParams();
    for (const [k, val] of Object.entries(filters)) if (val) q.set(k, val);
    if (to > 0) q.set('start', String(to));
    return `#/ledger?${q.toString()}`;
  };
  body.replaceChildren(
    table('Ledger entries', ['Index', 'Kind', 'When', 'Actor', 'Subjects', 'Inclusion proof'], rows.map((r, i) => [
      String(r.index), String(r.entry.kind), when(r.entry.at as string), h('code', {}, String(r.entry.actor)),
      h('ul', {}, ...Object.entries((r.entry.subjects ?? {}) as Record<string, string>).map(([k, val]) => h('li', {}, `${k} `, h('code', {}, val)))),
      proofs[i]!,
    ])),
    h('p', { class: 'row', id: 'ledger-pager' },
      start > 0 ? h('a', { href: link(filtered ? 0 : Math.max(0, start - PAGE)) }, filtered ? 'First page' : 'Previous page') : null,
      nextStart !== null ? h('a', { href: link(nextStart), id: 'ledger-next' }, 'Next page') : null));
}

async function proofCell(r: Row, cp: ParsedCheckpoint): Promise<HTMLElement> {
  let leaf: Uint8Array;
  try {
    leaf = leafHashOfText(canonicalize(r.entry));
  } catch (e) {
    return h('span', { class: 'status bad' }, `✗ entry cannot be canonicalised: ${message(e)}`);
  }
  if (r.entry.index !== r.index) return h('span', { class: 'status bad proof-bad' }, `✗ entry says index ${String(r.entry.index)}`);
  if (r.leafHash !== undefined && r.leafHash !== toBase64(leaf)) return h('span', { class: 'status bad proof-bad' }, '✗ served leaf hash is not the hash of this entry');
  if (r.index >= cp.size) return h('span', { class: 'status' }, 'newer than the checkpoint: not provable yet');
  try {
    const p = await call<{ proof: string[] }>('GET', `/v1/ledger/proofs/inclusion${query({ index: r.index, treeSize: cp.size })}`);
    verifyInclusion(r.index, cp.size, leaf, p.proof.map((x) => fromBase64(x)), cp.rootHash);
    return h('span', { class: 'proof-ok' }, `✓ included in the signed tree of ${cp.size}`);
  } catch (e) {
    return h('span', { class: 'status bad proof-bad' }, `✗ ${message(e)}`);
  }
}
