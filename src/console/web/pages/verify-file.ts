/**
 * Drop a file, verify it offline: a contract export (document, canonical form,
 * digest, both signatures, the parties' public keys) is checked with the same
 * verifyExportedContract that `tds contract verify FILE` runs. Nothing is
 * sent: the file is read in this page.
 */
import { verifyExportedContract, type ContractDocument, type ExportedSignature } from '../../../agreements/contract-document.js';
import type { PublicJwk } from '../../../crypto/ed25519.js';
import { h, Status } from '../dom.js';

/** Keys a contract file carries: `{kid: jwk}` (what the console and `tds contract verify --save` write) or a JWKS-like list. */
function keysOf(input: unknown): Record<string, PublicJwk> {
  const out: Record<string, PublicJwk> = {};
  const list = Array.isArray(input) ? input : (input as { keys?: unknown })?.keys;
  const add = (kid: unknown, jwk: unknown) => {
    if (typeof kid === 'string' && jwk && typeof jwk === 'object') {
      const { kty, crv, x } = jwk as PublicJwk;
      out[kid] = { kty, crv, x };
    }
  };
  if (Array.isArray(list)) for (const k of list as Array<{ kid?: unknown; publicKeyJwk?: unknown }>) add(k?.kid, k?.publicKeyJwk ?? k);
  else if (input && typeof input === 'object') for (const [kid, jwk] of Object.entries(input)) add(kid, jwk);
  return out;
}

/** Verify a dropped file's text; returns the verdict as an element. */
export function verifyText(text: string, name: string): HTMLElement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, `${name} is not JSON.`));
  }
  const f = parsed as { document?: ContractDocument; signatures?: ExportedSignature[]; canonical?: string; digest?: string; keys?: unknown; type?: string };
  if (f && typeof f === 'object' && f.document && Array.isArray(f.signatures)) {
    let result: { ok: boolean; problems: string[] };
    try {
      result = verifyExportedContract({ document: f.document, canonical: f.canonical, digest: f.digest, signatures: f.signatures }, keysOf(f.keys ?? {}));
    } catch (e) {
      result = { ok: false, problems: [`the document is malformed: ${(e as Error).message}`] };
    }
    return result.ok
      ? h('div', { class: 'status ok', id: 'file-verdict' }, h('p', {}, h('strong', {}, `Contract ${f.document.id}: valid.`)),
        h('p', {}, `The terms are exactly what both parties signed: consumer ${f.document.consumer.id} (key ${f.document.consumer.kid}) and provider ${f.document.provider.id} (key ${f.document.provider.kid}).`))
      : h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, h('strong', {}, `Contract ${f.document.id ?? '?'}: INVALID.`)), h('ul', {}, ...result.problems.map((p) => h('li', {}, p))));
  }
  return h('div', { class: 'status bad', role: 'alert', id: 'file-verdict' }, h('p', {}, `${name} is not a contract export (it needs document and signatures).`));
}

/** Render the verify-a-file page. */
export function verifyFilePage(main: HTMLElement): void {
  const status = new Status();
  const out = h('div', { 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'verify-file-input', accept: '.json,application/json' });
  const drop = h('div', { class: 'drop', id: 'drop-zone' }, h('p', {}, 'Drop a contract export here, or '), h('label', { for: file.id }, 'choose a file'), ' ', file);
  const handle = async (f: File | undefined) => {
    if (!f) return;
    status.wait(`Reading ${f.name} in this page…`);
    out.replaceChildren(verifyText(await f.text(), f.name));
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
  main.append(h('h1', {}, 'Verify a file offline'), h('p', {}, 'The file is checked here and never sent.'), drop, status.el, out);
}
