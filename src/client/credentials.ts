/**
 * A participant's key file, `contracts/credentials.v1.schema.json`: the one
 * reader the CLI, the data node, the gateway and the witness use, and the one
 * text every writer (`tds keygen`, `tds register`, `tds key rotate`) writes.
 * The file is checked on read against its schema, then the private key
 * against its public part and the kid against its thumbprint, so a
 * hand-edited or mixed-up file fails here, naming the file, rather than as
 * an opaque 401 from the service.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { secretKeyFromJwk, thumbprintOf } from '../crypto/ed25519.js';
import type { CredentialsV1 } from '../generated/contracts.js';
import { packageRoot } from '../package-root.js';

/** A key file: `{kid, privateJwk}` before registration, `{id, kid, privateJwk}` after (like operator.json). */
export type Credentials = CredentialsV1;

let validator: ValidateFunction<CredentialsV1> | undefined;

// Compiled on first read: the CLI's other commands need no schema.
function validate(doc: unknown): { shape: boolean; id: boolean } {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'contracts', 'credentials.v1.schema.json'), 'utf8')) as object;
    validator = new Ajv2020({ allErrors: true, strict: true }).compile<CredentialsV1>(schema);
  }
  if (validator(doc)) return { shape: true, id: true };
  const errors = validator.errors ?? [];
  return { shape: errors.every((e) => e.instancePath === '/id'), id: !errors.some((e) => e.instancePath === '/id') };
}

/**
 * Read and check a credentials file. `io.err` (when given) hears a warning
 * when the file is readable by other users; the private JWK comes back with
 * only its four members.
 */
export async function readCredentials(file: string, io?: { err(line: string): void }): Promise<Credentials> {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `key file ${file} not found (create one with \`tds keygen --out ${file}\`, or pass --key)` : `cannot read key file ${file}: ${code ?? (e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new Error(`key file ${file} is not JSON`);
  }
  const valid = validate(doc);
  if (!valid.shape) throw new Error(`key file ${file} must hold {kid, privateJwk} with an Ed25519 private JWK`);
  const { id, kid, privateJwk: jwk } = doc as CredentialsV1;
  try {
    secretKeyFromJwk(jwk);
  } catch (e) {
    throw new Error(`key file ${file}: ${(e as Error).message}`, { cause: e });
  }
  if ((await thumbprintOf(jwk)) !== kid) throw new Error(`key file ${file}: kid is not the thumbprint of the key`);
  if (!valid.id) throw new Error(`key file ${file}: id must be a string`);
  // Group- or world-readable private keys are a mistake worth pointing out, not a reason to stop.
  if (io && process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0) io.err(`warning: ${file} is readable by other users; run chmod 600 ${file}`);
  return { ...(id ? { id } : {}), kid, privateJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d } };
}

/** The text of a key file: what every writer writes (pretty JSON, final newline). */
export function credentialsText(c: Credentials): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}
