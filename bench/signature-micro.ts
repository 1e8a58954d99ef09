/**
 * Ed25519 per operation on this machine: the service's path
 * (src/crypto/ed25519-node.ts, libsodium, with its strict pre-checks) against
 * node:crypto (OpenSSL) with the key imported once as a KeyObject, the path
 * it replaced. Each job authorization verifies one request token and signs
 * one release token, so this is part of the service's CPU per job. Medians
 * of alternating rounds, on a request-token-sized message.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { generateKeyPair, privateJwkOf, publicJwkOf } from '../src/crypto/ed25519.js';
import { signerOf, verifierOf } from '../src/crypto/ed25519-node.js';
import { median, nowMs, round } from './stats.js';

/** µs per verification and per signature, for each path. */
export interface SignatureFigures {
  ops: number;
  rounds: number;
  libsodium: { verifyUs: number; signUs: number };
  openssl: { verifyUs: number; signUs: number };
}

function perOpUs(ops: number, fn: () => unknown): number {
  const t0 = nowMs();
  for (let i = 0; i < ops; i++) fn();
  return ((nowMs() - t0) * 1000) / ops;
}

export function measureSignatures(ops = 5000, rounds = 5): SignatureFigures {
  const { secretKey, publicKey } = generateKeyPair();
  const privateJwk = privateJwkOf(secretKey);
  const publicJwk = publicJwkOf(publicKey);
  const message = Buffer.alloc(420, 0x61);
  const sign = signerOf(privateJwk);
  const verify = verifierOf(publicJwk);
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x, d: privateJwk.d }, format: 'jwk' });
  const publicKeyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x }, format: 'jwk' });
  const signature = sign(message);
  if (!verify(signature, message) || !nodeVerify(null, message, publicKeyObject, signature)) throw new Error('the two Ed25519 paths disagree on an honest signature');
  const samples = { lv: [] as number[], ls: [] as number[], ov: [] as number[], os: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    samples.lv.push(perOpUs(ops, () => verify(signature, message)));
    samples.ov.push(perOpUs(ops, () => nodeVerify(null, message, publicKeyObject, signature)));
    samples.ls.push(perOpUs(ops, () => sign(message)));
    samples.os.push(perOpUs(ops, () => nodeSign(null, message, privateKey)));
  }
  const m = (xs: number[]) => round(median(xs), 1);
  return { ops, rounds, libsodium: { verifyUs: m(samples.lv), signUs: m(samples.ls) }, openssl: { verifyUs: m(samples.ov), signUs: m(samples.os) } };
}
