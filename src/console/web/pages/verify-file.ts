/**
 * Drop a file, verify it: a contract export (document, canonical form,
 * digest, both signatures, the parties' public keys) is checked with the same
 * verifyExportedContract that `tds contract verify` runs; a job receipt
 * (c2sp.org/tlog-proof@v1) with verifyReceipt, as `tds receipt verify` does,
 * against the log key and witness keys pinned on this page. The file itself
 * is never sent. A contract's signatures prove who signed only against keys
 * from a source the reader trusts: with a key loaded, the page checks them
 * against the parties' keys (with their history) in the service's directory
 * (GET /v1/participants/:id), as `tds contract verify <id>` does, and refuses
 * a file whose keys are not the directory's; without one it can only check
 * the keys the file carries, and says that this proves nothing about who signed.
 */
import { partyText } from '../../../agreements/terms-text.js';
import { keysByKid, verifyExportedContract, type ContractDocument, type ExportedSignature, type OfflineVerification, type VerificationKey } from '../../../agreements/contract-document.js';
import type { ParticipantView } from '../../../participants/participant-view.js';
import { parseVerifierKey } from '../../../ledger/checkpoint.js';
import { parseCosignerKey } from '../../../ledger/cosignature.js';
import { TLOG_PROOF_HEADER, verifyReceipt } from '../../../ledger/tlog-proof.js';
import { ApiError, call } from '../api.js';
import { errorBox, field, h, input, Status } from '../dom.js';
import * as session from '../session.js';
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

type ContractFile = { document: ContractDocument; signatures: ExportedSignature[]; canonical?: string; digest?: string; keys?: unknown };
type Party = 'consumer' | 'provider';
const PARTIES: Party[] = ['consumer', 'provider'];

const own = <T>(o: Record<string, T>, k: string): T | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** The parties' keys as the directory lists them, and every way the file's keys disagree with them. */
async function directoryKeys(f: ContractFile): Promise<{ keys: Record<string, VerificationKey>; problems: string[]; sources: string[] }> {
  const fileKeys = keysByKid(f.keys ?? {});
  const keys: Record<string, VerificationKey> = {};
  const problems: string[] = [];
  const sources: string[] = [];
  for (const party of PARTIES) {
    const named = f.document[party];
    let p: ParticipantView;
    try {
      p = await call<ParticipantView>('GET', `/v1/participants/${encodeURIComponent(named.id)}`);
    } catch (e) {
      // No such participant (or no participant id at all): the directory knows no key of theirs.
      if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
        problems.push(`the ${party} ${named.id} is not in the service's participant directory`);
        continue;
      }
      throw e;
    }
    sources.push(`${party} ${p.name}: GET /v1/participants/${p.id}`);
    const listed = own(keysByKid(p.keys), named.kid);
    if (!listed) {
      problems.push(`the ${party}'s key ${named.kid} is not one of the keys the directory lists for ${p.name} (${p.id}): whoever signed with it, the directory does not know it as theirs`);
      continue;
    }
    Object.defineProperty(keys, named.kid, { value: listed, enumerable: true, writable: true, configurable: true });
    const carried = own(fileKeys, named.kid);
    if (carried && (carried.kty !== listed.kty || carried.crv !== listed.crv || carried.x !== listed.x)) {
      problems.push(`the file carries another public key under the ${party}'s key id ${named.kid} than the directory lists for ${p.name}: the file's keys do not match the directory`);
    }
  }
  return { keys, problems, sources };
}

const bad = (...children: Array<Node | string>): HTMLElement => h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, ...children);
const noteList = (r: OfflineVerification): HTMLElement[] => (r.notes ?? []).map((n) => h('p', { class: 'detail' }, `Note: ${n}.`));

function check(f: ContractFile, keys: Record<string, VerificationKey>): OfflineVerification {
  try {
    return verifyExportedContract({ document: f.document, canonical: f.canonical, digest: f.digest, signatures: f.signatures }, keys);
  } catch (e) {
    return { ok: false, problems: [`the document is malformed: ${(e as Error).message}`] };
  }
}

/** A contract export checked with the directory's keys (a key is loaded) or, saying what that is worth, with its own. */
async function verifyContract(f: ContractFile): Promise<HTMLElement> {
  const id = f.document?.id ?? '?';
  const signedBy = (d: ContractDocument) => `consumer ${partyText(d.consumer)} and provider ${partyText(d.provider)}`;
  if (!session.me()) {
    const r = check(f, keysByKid(f.keys ?? {}));
    if (!r.ok) return bad(h('p', {}, h('strong', {}, `Contract ${id}: INVALID.`)), h('ul', {}, ...r.problems.map((p) => h('li', {}, p))));
    return h('div', { class: 'status warn', id: 'file-verdict' },
      h('p', {}, h('strong', {}, `Contract ${id}: the signatures verify with the keys the file itself carries. That proves nothing about who signed.`)),
      h('p', { id: 'key-source' }, 'Keys: from the file itself (its keys member), not checked against the service\u2019s directory. Anyone can change the terms, sign them with two new keys and put those keys in the file; this check shows only that the file is consistent with itself. Load your key to check the signatures against the parties\u2019 keys in the directory.'),
      h('p', {}, `The file names ${signedBy(f.document)}.`),
      ...noteList(r));
  }
  const unnamed = PARTIES.filter((p) => typeof f.document[p]?.id !== 'string' || typeof f.document[p]?.kid !== 'string');
  if (unnamed.length > 0) return bad(h('p', {}, h('strong', {}, `Contract ${id}: INVALID.`)), h('p', {}, `The document names no ${unnamed.join(' and no ')} (participant id and key id).`));
  let dir: Awaited<ReturnType<typeof directoryKeys>>;
  try {
    dir = await directoryKeys(f);
  } catch (e) {
    return h('div', { id: 'file-verdict' }, h('p', { class: 'status bad' }, h('strong', {}, `Contract ${id}: not verified: the directory could not be asked for the parties\u2019 keys.`)), errorBox(e));
  }
  const r = check(f, dir.keys);
  const problems = [...dir.problems, ...r.problems.filter((p) => !/^public key \S+ of the \w+ not supplied$/.test(p))];
  if (problems.length > 0) {
    return bad(h('p', {}, h('strong', {}, `Contract ${id}: INVALID against the service\u2019s directory.`)), h('ul', {}, ...problems.map((p) => h('li', {}, p))),
      h('p', { id: 'key-source' }, 'Keys: the parties\u2019 keys from the service\u2019s participant directory, not the keys in the file.'));
  }
  return h('div', { class: 'status ok', id: 'file-verdict' }, h('p', {}, h('strong', {}, `Contract ${id}: valid.`)),
    h('p', {}, `The terms are exactly what both parties signed: ${signedBy(f.document)}.`),
    h('p', { id: 'key-source' }, `Keys: from the service\u2019s participant directory (${dir.sources.join('; ')}), with their history: each key was current when it signed.${f.keys ? ' The keys in the file are the same.' : ''}`),
    ...noteList(r));
}

/** Verify a dropped file's text; resolves to the verdict as an element. */
export async function verifyText(text: string, name: string, keys: ReceiptKeys): Promise<HTMLElement> {
  if (text.startsWith(`${TLOG_PROOF_HEADER}\n`)) return verifyReceiptText(text, keys);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad(h('p', {}, `${name} is not JSON.`));
  }
  const f = parsed as ContractFile;
  if (f && typeof f === 'object' && f.document && typeof f.document === 'object' && Array.isArray(f.signatures)) return verifyContract(f);
  return bad(h('p', {}, `${name} is neither a contract export (document and signatures) nor a receipt (${TLOG_PROOF_HEADER}).`));
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
    out.replaceChildren(await verifyText(await f.text(), f.name, keys()));
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
  main.append(h('h1', {}, 'Verify a file'), h('p', {}, 'Drop a contract export or a job receipt. The file is checked here and never sent. ',
    session.me() ? 'A contract\u2019s signatures are checked against the parties\u2019 keys in the service\u2019s directory.' : 'No key is loaded: a contract can only be checked against the keys inside the file, which proves nothing about who signed.'), keysForm, drop, status.el, out);
}
