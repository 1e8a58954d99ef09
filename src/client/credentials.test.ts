import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, privateJwkOf, thumbprintOf } from '../crypto/ed25519.js';
import { credentialsText, readCredentials } from './credentials.js';

describe('the credentials file (contracts/credentials.v1)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-creds-'));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads what the writers write, before and after registration', async () => {
    const privateJwk = privateJwkOf(generateKeyPair().secretKey);
    const kid = await thumbprintOf(privateJwk);
    expect(await readCredentials(write('new.json', credentialsText({ kid, privateJwk })))).toEqual({ kid, privateJwk });
    expect(await readCredentials(write('reg.json', credentialsText({ id: 'p-1', kid, privateJwk })))).toEqual({ id: 'p-1', kid, privateJwk });
  });

  it('refuses a malformed file, naming it', async () => {
    const privateJwk = privateJwkOf(generateKeyPair().secretKey);
    const kid = await thumbprintOf(privateJwk);
    for (const [name, doc] of [['null.json', null], ['nokid.json', { privateJwk }], ['x25519.json', { kid, privateJwk: { ...privateJwk, crv: 'X25519' } }], ['nod.json', { kid, privateJwk: { ...privateJwk, d: undefined } }]] as const) {
      const file = write(name, JSON.stringify(doc));
      await expect(readCredentials(file)).rejects.toThrow(`key file ${file} must hold {kid, privateJwk} with an Ed25519 private JWK`);
    }
    const badId = write('id.json', JSON.stringify({ id: 7, kid, privateJwk }));
    await expect(readCredentials(badId)).rejects.toThrow(`key file ${badId}: id must be a string`);
    const wrongKid = write('kid.json', JSON.stringify({ kid: 'x', privateJwk }));
    await expect(readCredentials(wrongKid)).rejects.toThrow(`key file ${wrongKid}: kid is not the thumbprint of the key`);
    const notJson = write('text.json', 'nope');
    await expect(readCredentials(notJson)).rejects.toThrow(`key file ${notJson} is not JSON`);
  });
});
