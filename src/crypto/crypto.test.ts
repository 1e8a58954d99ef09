import { randomBytes } from 'node:crypto';
import { sha256, sha256Incremental, sha256Reference, toHex, fromHex, fromBase64, toBase64, fromBase64Url } from './sha256.js';
import { generateKeyPair, sign, verify, publicJwkOf, publicKeyFromJwk, privateJwkOf, secretKeyFromJwk, thumbprintOf } from './ed25519.js';

describe('sha256', () => {
  it('matches the FIPS 180-2 "abc" vector', () => {
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('node:crypto and noble agree on random inputs and on split parts', () => {
    for (let i = 0; i < 50; i++) {
      const a = new Uint8Array(randomBytes(i * 7));
      const b = new Uint8Array(randomBytes(i));
      expect(toHex(sha256(a, b))).toBe(toHex(sha256Reference(a, b)));
    }
  });
  it('the incremental hasher (the console hashes files in chunks) equals the one-shot digest', () => {
    const whole = new Uint8Array(randomBytes(1000));
    const h = sha256Incremental();
    for (let i = 0; i < whole.length; i += 333) h.update(whole.subarray(i, i + 333));
    expect(toHex(h.digest())).toBe(toHex(sha256(whole)));
  });
  it('refuses malformed encodings', () => {
    expect(() => fromHex('abc')).toThrow();
    expect(() => fromBase64('not base64!')).toThrow();
    expect(() => fromBase64Url('a+b')).toThrow();
    expect(toBase64(fromBase64('AAEC'))).toBe('AAEC');
  });
});

describe('ed25519', () => {
  it('signs and verifies, and refuses other bytes or keys', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const msg = new TextEncoder().encode('contract');
    const sig = sign(msg, secretKey);
    expect(verify(sig, msg, publicKey)).toBe(true);
    expect(verify(sig, new TextEncoder().encode('contracT'), publicKey)).toBe(false);
    expect(verify(sig, msg, generateKeyPair().publicKey)).toBe(false);
    expect(verify(sig.slice(0, 63), msg, publicKey)).toBe(false);
  });
  it('matches RFC 8032 test vector 1', () => {
    const sk = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const jwk = privateJwkOf(sk);
    expect(toHex(publicKeyFromJwk(jwk))).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(toHex(sign(new Uint8Array(), sk))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });
  it('round-trips JWKs and rejects non-Ed25519 keys', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const priv = privateJwkOf(secretKey);
    expect(secretKeyFromJwk(priv)).toEqual(secretKey);
    expect(publicKeyFromJwk(publicJwkOf(publicKey))).toEqual(publicKey);
    expect(() => publicKeyFromJwk({ kty: 'EC', crv: 'P-256', x: priv.x })).toThrow();
    expect(() => publicKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' })).toThrow();
    expect(() => secretKeyFromJwk({ ...priv, x: publicJwkOf(generateKeyPair().publicKey).x })).toThrow();
  });
  it('computes the RFC 8037 appendix A.3 thumbprint', async () => {
    expect(await thumbprintOf({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' })).toBe(
      'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    );
  });
});
