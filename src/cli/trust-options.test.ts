import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, privateJwkOf, publicKeyOf, thumbprintOf } from '../crypto/ed25519.js';
import { verifierKey } from '../ledger/checkpoint.js';
import { cosignerVerifierKey } from '../ledger/cosignature.js';
import { runTds } from './tds.js';

// Every command that takes a verifier key treats a malformed or unreadable one as a bad command line (exit 2, usage on stderr).
describe('key arguments (--log-key, --witness)', () => {
  let dir: string;
  let keyFile: string;
  let statement: string;
  let receipt: string;
  const logKey = verifierKey('tds.test/ledger', publicKeyOf(generateKeyPair().secretKey));
  const witnessVkey = cosignerVerifierKey('w.test/witness', publicKeyOf(generateKeyPair().secretKey));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-trust-options-'));
    const privateJwk = privateJwkOf(generateKeyPair().secretKey);
    keyFile = path.join(dir, 'key.json');
    fs.writeFileSync(keyFile, JSON.stringify({ id: '00000000-0000-4000-8000-000000000001', kid: await thumbprintOf(privateJwk), privateJwk }), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'witness.vkey'), `${witnessVkey}\n`);
    statement = path.join(dir, 'statement.json');
    fs.writeFileSync(statement, JSON.stringify({ statement: { treeSize: 1 }, signature: 'x' }));
    receipt = path.join(dir, 'r.tlog-proof');
    fs.writeFileSync(receipt, 'c2sp.org/tlog-proof@v1\nindex 0\n\nx\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function tds(argv: string[]): Promise<{ code: number; err: string[] }> {
    const err: string[] = [];
    // Port 9 (discard) on loopback: nothing should be asked of a service before the key is checked.
    const env = { TDS_URL: 'http://127.0.0.1:9', TDS_KEY: keyFile };
    const code = await runTds(argv, { out: (l) => void err.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env });
    return { code, err };
  }

  const commands: Array<[string, (key: string) => string[]]> = [
    ['verify', (k) => ['verify', '--bundle', dir, '--log-key', k]],
    ['report', (k) => ['report', '--bundle', dir, '--log-key', k]],
    ['monitor', (k) => ['monitor', '--once', '--state', path.join(dir, 'monitor.json'), '--log-key', k]],
    ['receipt verify', (k) => ['receipt', 'verify', receipt, '--log-key', k]],
    ['statement verify', (k) => ['statement', 'verify', statement, '--log-key', k]],
    ['witness', (k) => ['witness', '--name', 'w.test/witness', '--key', keyFile, '--state', path.join(dir, 'wstate'), '--log-key', logKey, '--log-key', k, '--port', '0']],
  ];

  it.each(commands)('%s: a malformed --log-key, a witness key given as the log key, or an unreadable @file exits 2 naming --log-key', async (command, argv) => {
    for (const bad of ['garbage', `@${path.join(dir, 'witness.vkey')}`, witnessVkey, `@${path.join(dir, 'missing.vkey')}`]) {
      const res = await tds(argv(bad));
      expect({ bad, code: res.code }).toEqual({ bad, code: 2 });
      expect(res.err[0]).toMatch(new RegExp(`^tds: ${command}: --log-key[: ]`));
      expect(res.err.slice(1).join('\n')).toContain(`tds ${command}`);
    }
  });

  it.each(commands.filter(([c]) => ['verify', 'report', 'monitor', 'receipt verify'].includes(c)))('%s: a malformed --witness exits 2 naming --witness', async (command, argv) => {
    for (const bad of ['garbage', logKey]) {
      const res = await tds([...argv(logKey), '--witness', bad]);
      expect({ bad, code: res.code }).toEqual({ bad, code: 2 });
      expect(res.err[0]).toMatch(new RegExp(`^tds: ${command}: --witness[: ]`));
    }
  });
});
