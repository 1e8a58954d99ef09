/**
 * The participant's key, held in this page's memory only: loaded from the
 * same JSON key file the CLI writes (`{id, kid, privateJwk}`), checked (the
 * private part matches the public part, the kid is its RFC 7638 thumbprint),
 * never sent, never written to any storage. "Forget key" drops it; so does
 * closing or reloading the tab.
 */
import { secretKeyFromJwk, thumbprintOf, type PrivateJwk } from '../../crypto/ed25519.js';
import type { Signer } from '../../client/request-token.js';

/** Who the page acts as, as the directory describes the participant. */
export interface Me {
  id: string;
  name: string;
  status: string;
  roles: string[];
}

interface Held {
  signer: Signer;
  me: Me | null;
}

let held: Held | null = null;
const listeners = new Set<() => void>();

/** Parse and check a key file's text; throws an Error saying what is wrong with it. */
export async function parseKeyFile(text: string): Promise<Signer> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('the key file is not JSON (expected the file `tds keygen` / `tds register` wrote)');
  }
  const f = parsed as { id?: unknown; kid?: unknown; privateJwk?: Partial<PrivateJwk> };
  const jwk = f?.privateJwk;
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new Error('the key file has no Ed25519 private key (privateJwk with kty OKP, crv Ed25519, x and d)');
  }
  try {
    secretKeyFromJwk(jwk as PrivateJwk);
  } catch (e) {
    throw new Error(`the key file's private key is not usable: ${(e as Error).message}`, { cause: e });
  }
  const kid = await thumbprintOf(jwk as PrivateJwk);
  if (typeof f.kid === 'string' && f.kid !== kid) throw new Error(`the key file's kid ${f.kid} is not the thumbprint of its key (${kid})`);
  if (typeof f.id !== 'string' || f.id === '') throw new Error('the key file has no participant id yet: register it first (`tds register`)');
  return { iss: f.id, kid, privateJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d } };
}

/** Hold a checked key (and later, the directory entry it belongs to). */
export function hold(signer: Signer, me: Me | null = null): void {
  held = { signer, me };
  notify();
}

/** Record the directory entry of the held key. */
export function setMe(me: Me): void {
  if (held) held.me = me;
  notify();
}

/** The signer, or undefined when no key is loaded. */
export function signer(): Signer | undefined {
  return held?.signer;
}

/** The participant the key belongs to, when known. */
export function me(): Me | null {
  return held?.me ?? null;
}

/** True when the participant holds the role. */
export function hasRole(role: string): boolean {
  return held?.me?.roles.includes(role) ?? false;
}

/** Drop the key from memory. */
export function forget(): void {
  if (held) {
    // Overwrite the fields so no reference elsewhere keeps the secret readable.
    held.signer.privateJwk.d = '';
  }
  held = null;
  notify();
}

/** Be told when the key is loaded or forgotten. */
export function onChange(fn: () => void): void {
  listeners.add(fn);
}

function notify(): void {
  for (const fn of listeners) fn();
}
