/**
 * The signed contract document: what both parties sign (RFC 8785 canonical
 * JSON, SHA-256 digest), and the offline check of an exported contract's
 * signatures against the parties' public keys. Pure: no I/O.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8, fromBase64Url } from '../crypto/sha256.js';
import { publicKeyFromJwk, verify, type PublicJwk } from '../crypto/ed25519.js';
import type { Access, OutputPolicy } from './output-policy.js';
import type { OfferTerms } from './offer-view.js';

/**
 * The document's schema identifier: part of the signed bytes, so the format
 * cannot change silently. v2 (the documents the service builds) adds the
 * parties' display names and the dataset's title to v1, so what people read
 * before signing is part of what they sign; v1 documents still verify.
 */
export const CONTRACT_DOCUMENT_TYPE = 'tds.contract.v2';

/** Every document type a verifier accepts: the current one and v1 (no names, no title). */
export const CONTRACT_DOCUMENT_TYPES = ['tds.contract.v1', CONTRACT_DOCUMENT_TYPE] as const;

/** A party as the document names it: participant id, the key it signs with, and (v2) its registered display name. */
export interface ContractParty {
  id: string;
  kid: string;
  /** The participant's display name at proposal time; in every v2 document, absent from v1. */
  name?: string;
}

/** Every term both parties agree to: the offer's terms, and who, what and how. */
export interface ContractDocument extends OfferTerms {
  type: (typeof CONTRACT_DOCUMENT_TYPES)[number];
  id: string;
  space: string;
  offerId: string;
  /** `title`: the dataset's title at proposal time; in every v2 document, absent from v1. */
  dataset: { id: string; sha256: string; researchField: string; kind: string; title?: string };
  provider: ContractParty;
  consumer: ContractParty;
  /** How the dataset is used: compute (analyses at the provider) or download (release token). */
  access: Access;
  /** Compute contracts: the offer's policy, every default filled in. */
  outputPolicy?: OutputPolicy;
  /** Compute contracts with noise: maxInvocations × epsilon. */
  privacyLossBound?: number;
  createdAt: string;
}

/** Canonical string and SHA-256 hex digest of a document. */
export function canonicalizeContract(doc: ContractDocument): { canonical: string; digest: string } {
  const canonical = canonicalize(doc);
  return { canonical, digest: toHex(sha256(utf8(canonical))) };
}

/** One party's signature, as exported; `signedAt` is when the service accepted it (GET /contracts/:id). */
export interface ExportedSignature {
  participantId: string;
  kid: string;
  signature: string;
  signedAt?: string;
}

/**
 * A public key as a verifier holds it: the JWK, plus, when known, the key's
 * history from the participant directory: when it was registered and when it
 * was rotated out (`revokedAt` null: still current). Without the history a
 * verifier cannot tell whether the key was current when it signed.
 */
export type VerificationKey = PublicJwk & { createdAt?: string; revokedAt?: string | null };

/** Verify one signature (base64url Ed25519 over the UTF-8 canonical bytes) against a public JWK. */
export function verifyContractSignature(canonical: string, signatureB64u: string, jwk: PublicJwk): boolean {
  let sig: Uint8Array;
  let pub: Uint8Array;
  try {
    sig = fromBase64Url(signatureB64u);
    pub = publicKeyFromJwk(jwk);
  } catch {
    return false;
  }
  return verify(sig, utf8(canonical), pub);
}

/**
 * Keys by kid from the shapes people have at hand: a map kid -> JWK (with
 * optional createdAt / revokedAt beside the JWK members), a JWKS
 * `{keys: [{kid, ...}]}`, a list of `{kid, publicKeyJwk, createdAt, revokedAt}`
 * (a participant's `keys` in the directory), or a participant entry
 * `{keys: [...]}`. Anything else in an item is dropped.
 */
export function keysByKid(input: unknown): Record<string, VerificationKey> {
  const out: Record<string, VerificationKey> = {};
  const add = (kid: unknown, jwk: unknown, times: unknown) => {
    if (typeof kid !== 'string' || !jwk || typeof jwk !== 'object') return;
    const { kty, crv, x } = jwk as PublicJwk;
    const key: VerificationKey = { kty, crv, x };
    const t = (times && typeof times === 'object' ? times : {}) as { createdAt?: unknown; revokedAt?: unknown };
    if (typeof t.createdAt === 'string') key.createdAt = t.createdAt;
    if (typeof t.revokedAt === 'string' || t.revokedAt === null) key.revokedAt = t.revokedAt;
    // Object.defineProperty: a kid named __proto__ is just a key.
    Object.defineProperty(out, kid, { value: key, enumerable: true, writable: true, configurable: true });
  };
  const list = Array.isArray(input) ? input : input && typeof input === 'object' && Array.isArray((input as { keys?: unknown }).keys) ? (input as { keys: unknown[] }).keys : undefined;
  if (list) {
    for (const k of list as Array<{ kid?: unknown; publicKeyJwk?: unknown } | null>) add(k?.kid, k?.publicKeyJwk ?? k, k);
  } else if (input && typeof input === 'object') {
    for (const [kid, jwk] of Object.entries(input)) add(kid, jwk, jwk);
  }
  return out;
}

/** Result of an offline verification, party by party; `notes` say what could not be checked (no failure). */
export interface OfflineVerification {
  ok: boolean;
  problems: string[];
  notes?: string[];
}

const instant = (s: unknown): number => (typeof s === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(s) ? Date.parse(s) : Number.NaN);

/**
 * Was `key` current when `sig` was made? A problem sentence when it was not
 * (signed after the key was rotated out, or before it was registered) or when
 * that cannot be shown for a rotated key; a note when the key's history is
 * unknown; null when it was current.
 */
export function keyWasCurrent(party: string, sig: ExportedSignature, key: VerificationKey): { problem?: string; note?: string } {
  if (key.revokedAt === undefined) return { note: `the ${party}'s key ${sig.kid} came without its history (revokedAt): not checked that it was current when it signed` };
  const signed = instant(sig.signedAt);
  if (key.revokedAt !== null) {
    const revoked = instant(key.revokedAt);
    if (Number.isNaN(revoked)) return { problem: `the ${party}'s key ${sig.kid} has an unreadable rotation time ${JSON.stringify(key.revokedAt)}` };
    if (Number.isNaN(signed)) return { problem: `the ${party}'s key ${sig.kid} was rotated out at ${key.revokedAt} and the signature carries no signing time (signedAt): it cannot be shown to predate the rotation` };
    if (signed >= revoked) return { problem: `the ${party} signed at ${sig.signedAt} with key ${sig.kid}, which had been rotated out at ${key.revokedAt}` };
  }
  if (key.createdAt !== undefined && !Number.isNaN(signed)) {
    const created = instant(key.createdAt);
    if (Number.isNaN(created)) return { problem: `the ${party}'s key ${sig.kid} has an unreadable registration time ${JSON.stringify(key.createdAt)}` };
    if (signed < created) return { problem: `the ${party} signed at ${sig.signedAt} with key ${sig.kid}, registered only at ${key.createdAt}` };
  }
  return {};
}

/**
 * Re-check an exported contract offline: the canonical string is exactly the
 * document's RFC 8785 form (so no field was changed), the digest matches, both
 * parties' signatures verify with the keys the document names, and each of
 * those keys was current when its signature was made (by the key's history:
 * a signature at or after the key's rotation is refused, as the service
 * refuses it with SIGNING_KEY_ROTATED).
 */
export function verifyExportedContract(
  exported: { document: ContractDocument; canonical?: string; digest?: string; signatures: ExportedSignature[] },
  keys: Record<string, VerificationKey>,
): OfflineVerification {
  const problems: string[] = [];
  const notes: string[] = [];
  const { canonical, digest } = canonicalizeContract(exported.document);
  if (exported.canonical !== undefined && exported.canonical !== canonical) problems.push('canonical string does not match the document');
  if (exported.digest !== undefined && exported.digest !== digest) problems.push('digest does not match the document');
  for (const party of ['consumer', 'provider'] as const) {
    const named = exported.document[party];
    const sig = exported.signatures.find((s) => s.participantId === named.id && s.kid === named.kid);
    if (!sig) {
      problems.push(`no ${party} signature by ${named.id} with key ${named.kid}`);
      continue;
    }
    const jwk = Object.prototype.hasOwnProperty.call(keys, named.kid) ? keys[named.kid] : undefined;
    if (!jwk) problems.push(`public key ${named.kid} of the ${party} not supplied`);
    else if (!verifyContractSignature(canonical, sig.signature, jwk)) problems.push(`${party} signature does not verify`);
    else {
      const current = keyWasCurrent(party, sig, jwk);
      if (current.problem) problems.push(current.problem);
      if (current.note) notes.push(current.note);
    }
  }
  return notes.length > 0 ? { ok: problems.length === 0, problems, notes } : { ok: problems.length === 0, problems };
}
