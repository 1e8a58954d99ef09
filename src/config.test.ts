import path from 'node:path';
import { loadConfig, ConfigError, DEFAULT_DB_POOL_SIZE, MAX_WORKERS } from './config.js';

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
  it('reads TDS_WORKERS and TDS_DB_POOL_SIZE (one process and the default pool unless set) and refuses what is not a count', () => {
    expect(loadConfig({})).toMatchObject({ workers: 1, dbPoolSize: DEFAULT_DB_POOL_SIZE });
    expect(loadConfig({ TDS_WORKERS: '3', TDS_DB_POOL_SIZE: '8' })).toMatchObject({ workers: 3, dbPoolSize: 8 });
    expect(loadConfig({ TDS_WORKERS: String(MAX_WORKERS) }).workers).toBe(MAX_WORKERS);
    for (const bad of ['0', '-1', '2.5', 'two', ' 2', String(MAX_WORKERS + 1), '1e1']) {
      expect(() => loadConfig({ TDS_WORKERS: bad })).toThrow(/TDS_WORKERS must be an integer from 1 to 64/);
    }
    expect(() => loadConfig({ TDS_DB_POOL_SIZE: '0' })).toThrow(/TDS_DB_POOL_SIZE/);
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
