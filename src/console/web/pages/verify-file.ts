/**
 * Drop a file, verify it offline: a contract export (document, canonical form,
 * digest, both signatures, the parties' public keys) is checked with the same
 * verifyExportedContract that `tds contract verify FILE` runs; a job receipt
 * (c2sp.org/tlog-proof@v1) with verifyReceipt, as `tds receipt verify` does,
 * against the log key and witness keys pinned on this page. Nothing is sent:
 * the file is read in this page.
 */
import { partyText } from '../../../agreements/terms-text.js';
import { keysByKid, verifyExportedContract, type ContractDocument, type ExportedSignature, type OfflineVerification } from '../../../agreements/contract-document.js';
import { parseVerifierKey } from '../../../ledger/checkpoint.js';
import { parseCosignerKey } from '../../../ledger/cosignature.js';
import { TLOG_PROOF_HEADER, verifyReceipt } from '../../../ledger/tlog-proof.js';
import { field, h, input, Status } from '../dom.js';
import * as store from '../store.js';

/** The keys a receipt is checked against. */
export interface ReceiptKeys {
  logKey: string;
  witnessKeys: string[];
  quorum: number;
}

function verifyReceiptText(text: string, keys: ReceiptKeys): HTMLElement {
  try {
    if (!keys.logKey) throw new Error('pin the log key above first: a receipt proves something only against a key you trust');
    const r = verifyReceipt(text, parseVerifierKey(keys.logKey), keys.witnessKeys.map((w) => parseCosignerKey(w)), keys.quorum);
    const subjects = (r.entry.subjects ?? {}) as Record<string, string>;
    return h('div', { class: 'status ok', id: 'file-verdict' },
      h('p', {}, h('strong', {}, `Receipt valid: ledger entry ${r.index} (${String(r.entry.kind)}) is included in the checkpoint of ${r.checkpoint.size} entries signed by ${r.checkpoint.origin}.`)),
      h('p', {}, Object.entries(subjects).map(([k, v]) => `${k} ${v}`).join(', ')),
      h('p', {}, keys.witnessKeys.length > 0 ? `Cosigned by ${r.cosigned.map((c) => c.name).join(', ') || 'no pinned witness'} (quorum ${keys.quorum}).` : 'No witness keys pinned: only the log\u2019s signature was checked.'));
  } catch (e) {
    return h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, h('strong', {}, 'Receipt INVALID.')), h('p', { class: 'detail' }, (e as Error).message));
  }
}

/** Verify a dropped file's text; returns the verdict as an element. */
export function verifyText(text: string, name: string, keys: ReceiptKeys): HTMLElement {
  if (text.startsWith(`${TLOG_PROOF_HEADER}\n`)) return verifyReceiptText(text, keys);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, `${name} is not JSON.`));
  }
  const f = parsed as { document?: ContractDocument; signatures?: ExportedSignature[]; canonical?: string; digest?: string; keys?: unknown; type?: string };
  if (f && typeof f === 'object' && f.document && Array.isArray(f.signatures)) {
    let result: OfflineVerification;
    try {
      result = verifyExportedContract({ document: f.document, canonical: f.canonical, digest: f.digest, signatures: f.signatures }, keysByKid(f.keys ?? {}));
    } catch (e) {
      result = { ok: false, problems: [`the document is malformed: ${(e as Error).message}`] };
    }
    return result.ok
      ? h('div', { class: 'status ok', id: 'file-verdict' }, h('p', {}, h('strong', {}, `Contract ${f.document.id}: valid.`)),
        h('p', {}, `The terms are exactly what both parties signed: consumer ${partyText(f.document.consumer)} and provider ${partyText(f.document.provider)}.`),
        ...(result.notes ?? []).map((n) => h('p', { class: 'detail' }, `Note: ${n}.`)))
      : h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, h('strong', {}, `Contract ${f.document.id ?? '?'}: INVALID.`)), h('ul', {}, ...result.problems.map((p) => h('li', {}, p))));
  }
  return h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, `${name} is neither a contract export (document and signatures) nor a receipt (${TLOG_PROOF_HEADER}).`));
}

/** Render the verify-a-file page. */
export async function verifyFilePage(main: HTMLElement): Promise<void> {
  const status = new Status();
  const pins = (await store.load<store.Pins>(store.PINS).catch(() => undefined)) ?? { logKey: '', witnessKeys: [], quorum: 0 };
  const logKey = input('logKey', { value: pins.logKey, id: 'receipt-log-key', spellcheck: 'false' });
  const witnessKeys = h('textarea', { name: 'witnessKeys', rows: 2, id: 'receipt-witness-keys', spellcheck: 'false' }, pins.witnessKeys.join('\n'));
  const quorum = input('quorum', { type: 'number', min: 0, value: pins.quorum, id: 'receipt-quorum' });
  const keys = (): ReceiptKeys => ({ logKey: logKey.value.trim(), witnessKeys: witnessKeys.value.split('\n').map((l) => l.trim()).filter(Boolean), quorum: Number(quorum.value) || 0 });
  const out = h('div', { 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'verify-file-input', accept: '.json,application/json' });
  const drop = h('div', { class: 'drop', id: 'drop-zone' }, h('p', {}, 'Drop a contract export or a receipt here, or '), h('label', { for: file.id }, 'choose a file'), ' ', file);
  const handle = async (f: File | undefined) => {
    if (!f) return;
    status.wait(`Reading ${f.name} in this page…`);
    out.replaceChildren(verifyText(await f.text(), f.name, keys()));
    status.clear();
  };
  file.addEventListener('change', () => {
    // Cleared after reading so choosing the same (edited) file again is read again.
    void handle(file.files?.[0]).finally(() => (file.value = ''));
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void handle(e.dataTransfer?.files[0]);
  });
  const keysForm = h('fieldset', {}, h('legend', {}, 'Keys a receipt is checked against (taken from the ledger page\u2019s pins)'),
    field('Log key', logKey), field('Witness keys (one per line)', witnessKeys), field('Witness cosignatures required', quorum));
  main.append(h('h1', {}, 'Verify a file offline'), h('p', {}, 'Drop a contract export or a job receipt. The file is checked here and never sent.'), keysForm, drop, status.el, out);
}
