/**
 * The signed contract document: what both parties sign (RFC 8785 canonical
 * JSON, SHA-256 digest), and the offline check of an exported contract's
 * signatures against the parties' public keys. Pure: no I/O.
 */
import { canonicalize } from '../crypto/canonical-json.js';
import { sha256, toHex, utf8, fromBase64Url } from '../crypto/sha256.js';
import { publicKeyFromJwk, verify, type PublicJwk } from '../crypto/ed25519.js';
import type { Access, OutputPolicy } from './output-policy.js';

/** The document's schema identifier: part of the signed bytes, so the format cannot change silently. */
export const CONTRACT_DOCUMENT_TYPE = 'tds.contract.v1';

/** Every term both parties agree to. */
export interface ContractDocument {
  type: typeof CONTRACT_DOCUMENT_TYPE;
  id: string;
  space: string;
  offerId: string;
  dataset: { id: string; sha256: string; researchField: string; kind: string };
  provider: { id: string; kid: string };
  consumer: { id: string; kid: string };
  purposes: string[];
  maxInvocations: number;
  validFrom: string;
  validUntil: string;
  reciprocityRuleIds: string[];
  /** Exact decimal string in the currency's minor units ("12.50" EUR); null = free. */
  price: { perInvocation: string; currency: string } | null;
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

/** One party's signature, as exported. */
export interface ExportedSignature {
  participantId: string;
  kid: string;
  signature: string;
}

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

/** Result of an offline verification, party by party. */
export interface OfflineVerification {
  ok: boolean;
  problems: string[];
}

/**
 * Re-check an exported contract offline: the canonical string is exactly the
 * document's RFC 8785 form (so no field was changed), the digest matches, and
 * both parties' signatures verify with the keys the document names.
 */
export function verifyExportedContract(
  exported: { document: ContractDocument; canonical?: string; digest?: string; signatures: ExportedSignature[] },
  keys: Record<string, PublicJwk>,
): OfflineVerification {
  const problems: string[] = [];
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
    const jwk = keys[named.kid];
    if (!jwk) problems.push(`public key ${named.kid} of the ${party} not supplied`);
    else if (!verifyContractSignature(canonical, sig.signature, jwk)) problems.push(`${party} signature does not verify`);
  }
  return { ok: problems.length === 0, problems };
}
