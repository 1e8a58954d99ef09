/**
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 on the service's hot paths:
 * split and decode a token once, check its signature with a cached verifier
 * (ed25519-node.ts), and sign tokens with a cached signer. Claims are checked
 * by the caller (http/auth.ts), which knows what a request token must carry.
 * Only what the service issues and accepts is supported: alg EdDSA (or the
 * fully-specified Ed25519), no `crit`, no `b64: false`.
 */
import type { Verifier } from './ed25519-node.js';

/** A decoded compact JWS: its protected header, its JSON payload and whether the signature holds. */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Uint8Array;
}

/** Why a token could not be decoded: not three base64url parts, not JSON objects, or an unsupported header. */
export class JwsFormatError extends Error {}

const B64URL = /^[A-Za-z0-9_-]*$/;

function jsonObject(part: string, what: string): Record<string, unknown> {
  if (!B64URL.test(part)) throw new JwsFormatError(`${what} is not base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwsFormatError(`${what} is not JSON`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new JwsFormatError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Decode a compact JWS whose header names alg EdDSA/Ed25519; throws JwsFormatError. Does not verify. */
export function decodeJws(token: string): DecodedJws {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) throw new JwsFormatError('not a compact JWS');
  const header = jsonObject(token.slice(0, first), 'header');
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw new JwsFormatError('alg must be EdDSA');
  if (header.crit !== undefined || header.b64 !== undefined) throw new JwsFormatError('crit and b64 are not supported');
  const sigPart = token.slice(second + 1);
  if (!B64URL.test(sigPart)) throw new JwsFormatError('signature is not base64url');
  const payload = jsonObject(token.slice(first + 1, second), 'payload');
  return { header, payload, signingInput: Buffer.from(token.slice(0, second), 'ascii'), signature: new Uint8Array(Buffer.from(sigPart, 'base64url')) };
}

/** True when the decoded token's signature verifies with `verifier`. */
export function jwsSignatureHolds(jws: DecodedJws, verifier: Verifier): boolean {
  return verifier(jws.signature, jws.signingInput);
}

/** Sign header and payload (serialised here, once) as a compact JWS with an Ed25519 signer. */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (message: Uint8Array) => Uint8Array): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${Buffer.from(sign(Buffer.from(input, 'ascii'))).toString('base64url')}`;
}
