/**
 * First-start creation of the operator participant and its credentials file
 * `operator.json` = {id, kid, privateJwk} (mode 0600) in the data directory.
 * Scripts and tests act as the operator with that file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { generateKeyPair, privateJwkOf, publicJwkOf, publicKeyFromJwk, thumbprintOf, type PrivateJwk } from '../crypto/ed25519.js';
import type { ParticipantsService } from './participants.service.js';
import type { CredentialsV1 } from '../generated/contracts.js';

/** Contents of operator.json: a registered participant's key file (contracts/credentials.v1), its JWK carrying its kid. */
export type OperatorCredentials = CredentialsV1 & { id: string; privateJwk: PrivateJwk };

// Any constant works; it only serialises concurrent first starts.
const BOOTSTRAP_LOCK = 7_346_112;

/**
 * Make sure the operator exists. Returns the path of operator.json, or null
 * when the database already has an operator whose file lives elsewhere (a
 * second data directory against a shared DATABASE_URL).
 */
export async function ensureOperator(ds: DataSource, svc: ParticipantsService, dataDir: string): Promise<{ file: string | null; created: boolean }> {
  const file = path.join(dataDir, 'operator.json');
  fs.mkdirSync(dataDir, { recursive: true });
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [BOOTSTRAP_LOCK]);
    if (fs.existsSync(file)) {
      const creds = JSON.parse(fs.readFileSync(file, 'utf8')) as OperatorCredentials;
      const known = (await qr.query('SELECT 1 FROM participants WHERE id = $1', [creds.id])) as unknown[];
      if (known.length > 0) return { file, created: false };
      // A new database with an existing data directory: register the same operator again.
      await svc.createActive('operator', ['operator'], publicJwkOf(publicKeyFromJwk(creds.privateJwk)), creds.id);
      return { file, created: true };
    }
    const existing = (await qr.query(`SELECT 1 FROM participants WHERE 'operator' = ANY(roles) LIMIT 1`)) as unknown[];
    if (existing.length > 0) return { file: null, created: false };
    const privateJwk = privateJwkOf(generateKeyPair().secretKey);
    const pub = publicJwkOf(publicKeyFromJwk(privateJwk));
    const { id } = await svc.createActive('operator', ['operator'], pub);
    const kid = await thumbprintOf(pub);
    fs.writeFileSync(file, JSON.stringify({ id, kid, privateJwk: { ...privateJwk, kid } } satisfies OperatorCredentials, null, 2) + '\n', { mode: 0o600 });
    return { file, created: true };
  } finally {
    await qr.query('SELECT pg_advisory_unlock($1)', [BOOTSTRAP_LOCK]).catch(() => undefined);
    await qr.release();
  }
}
