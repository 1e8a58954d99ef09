/**
 * The service's own Ed25519 keys: one signs release tokens (published in
 * /.well-known/jwks.json), one signs ledger checkpoints (published as a
 * signed-note verifier key). Generated on first start, kept in the data
 * directory with mode 0600, shared by every process using that directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPair, privateJwkOf, publicJwkOf, publicKeyOf, secretKeyFromJwk, thumbprintOf, type PrivateJwk, type PublicJwk } from './crypto/ed25519.js';

/** One service key: its seed, public key, JWK and thumbprint kid. */
export interface ServiceKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  publicJwk: PublicJwk & { kid: string; alg: 'EdDSA'; use: 'sig' };
  privateJwk: PrivateJwk & { kid: string };
}

/** Both service keys. */
export interface ServiceKeys {
  release: ServiceKey;
  ledger: ServiceKey;
}

async function keyOf(secretKey: Uint8Array): Promise<ServiceKey> {
  const publicKey = publicKeyOf(secretKey);
  const kid = await thumbprintOf(publicJwkOf(publicKey));
  return {
    secretKey,
    publicKey,
    publicJwk: { ...publicJwkOf(publicKey), kid, alg: 'EdDSA', use: 'sig' },
    privateJwk: { ...privateJwkOf(secretKey), kid },
  };
}

/** Load the keys from dataDir/service-keys.json, creating them (0600) on first start. */
export async function loadServiceKeys(dataDir: string): Promise<ServiceKeys> {
  const file = path.join(dataDir, 'service-keys.json');
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(file)) {
    const doc = { release: privateJwkOf(generateKeyPair().secretKey), ledger: privateJwkOf(generateKeyPair().secretKey) };
    // 'wx' so two processes starting at once cannot overwrite each other's keys.
    try {
      fs.writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { release: PrivateJwk; ledger: PrivateJwk };
  return { release: await keyOf(secretKeyFromJwk(doc.release)), ledger: await keyOf(secretKeyFromJwk(doc.ledger)) };
}
