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
});
