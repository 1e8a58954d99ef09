import path from 'node:path';
import { loadConfig, ConfigError } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, databaseUrl: undefined, audience: 'tds', devMode: false, dataDir: path.resolve('./.tds') });
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('names every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', TDS_DEV_MODE: 'yes', LOG_LEVEL: 'loud' });
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const text = (e as ConfigError).problems.join('\n');
      for (const v of ['PORT', 'DATABASE_URL', 'TDS_DEV_MODE', 'LOG_LEVEL']) expect(text).toContain(v);
    }
  });
  it('accepts explicit values', () => {
    const c = loadConfig({ PORT: '0', DATABASE_URL: 'postgres://u@h/db', TDS_DEV_MODE: 'true', TDS_AUDIENCE: 'space-a' });
    expect(c).toMatchObject({ port: 0, databaseUrl: 'postgres://u@h/db', devMode: true, audience: 'space-a' });
  });
  it('reads TDS_WITNESSES and names the variable when it is wrong', async () => {
    const { generateKeyPair, publicKeyOf } = await import('./crypto/ed25519.js');
    const { cosignerVerifierKey } = await import('./ledger/cosignature.js');
    const vkey = cosignerVerifierKey('w1.example', publicKeyOf(generateKeyPair().secretKey));
    const vkey2 = cosignerVerifierKey('w2.example', publicKeyOf(generateKeyPair().secretKey));
    expect(loadConfig({}).witnesses).toEqual([]);
    expect(loadConfig({ TDS_WITNESSES: JSON.stringify([{ url: 'http://127.0.0.1:9/', vkey }, { url: 'https://w2.example/wit', vkey: vkey2 }]) }).witnesses).toEqual([
      { url: 'http://127.0.0.1:9', vkey },
      { url: 'https://w2.example/wit', vkey: vkey2 },
    ]);
    for (const bad of ['nope', '{}', '[1]', JSON.stringify([{ url: 'ftp://x', vkey }]), JSON.stringify([{ url: 'http://x', vkey: vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+') }]), JSON.stringify([{ url: 'http://x', vkey, extra: 1 }]), JSON.stringify([{ url: 'http://x', vkey }, { url: 'http://y', vkey }])]) {
      expect(() => loadConfig({ TDS_WITNESSES: bad })).toThrow(/TDS_WITNESSES/);
    }
  });
});
