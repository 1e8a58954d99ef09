import fs from 'node:fs';
import path from 'node:path';
import { isStorableDateTime, loadSchemas, SCHEMA_BASE } from './validation.js';
import { packageRoot } from '../package-root.js';
import { DomainError } from '../errors.js';

describe('contracts/ schemas', () => {
  const schemas = loadSchemas();

  it('all compile, each with the $id of its file name', () => {
    const files = fs.readdirSync(path.join(packageRoot(), 'contracts')).filter((f) => f.endsWith('.schema.json'));
    expect([...schemas.schemas.keys()].sort()).toEqual(files.map((f) => `${SCHEMA_BASE}${f}`).sort());
  });

  it('accept every example fixture in contracts/examples', () => {
    const dir = path.join(packageRoot(), 'contracts', 'examples');
    const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.examples.json'));
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
    for (const f of fixtures) {
      const name = f.replace('.examples.json', '');
      for (const example of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown[]) {
        expect(() => schemas.check(name, example)).not.toThrow();
      }
    }
  });

  it('refuse with VALIDATION_FAILED and JSON pointers', () => {
    try {
      schemas.check('job-request.v1', { contractId: 'x', purpose: 'DUO:0000006', extra: 1 });
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('VALIDATION_FAILED');
      const pointers = ((e as DomainError).extensions.errors as Array<{ pointer: string }>).map((x) => x.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/contractId', '/extra']));
    }
  });
});

describe('query integers', () => {
  const schemas = loadSchemas();
  const pointerOf = (query: Record<string, string>): string | undefined => {
    try {
      schemas.checkQuery('inclusion-proof-query.v1', query);
      return undefined;
    } catch (e) {
      expect((e as DomainError).code).toBe('VALIDATION_FAILED');
      return ((e as DomainError).extensions.errors as Array<{ pointer: string }>)[0]?.pointer;
    }
  };

  it('are read from decimal digits only', () => {
    expect(schemas.checkQuery('inclusion-proof-query.v1', { index: '16', treeSize: '20' })).toEqual({ index: 16, treeSize: 20 });
    expect(schemas.checkQuery('inclusion-proof-query.v1', { index: '0' })).toEqual({ index: 0 });
    for (const index of ['0x10', '1e1', '+1', ' 1', '1 ', '1.0', '00', '01', '', 'Infinity', '1_0']) expect([index, pointerOf({ index })]).toEqual([index, '/index']);
    expect(pointerOf({ index: '1', treeSize: '2e1' })).toBe('/treeSize');
    // A negative number is digits too: the schema's minimum refuses it.
    expect(pointerOf({ index: '-1' })).toBe('/index');
  });
});

describe('date-time', () => {
  it('is RFC 3339 and an instant the database holds (UTC years 0001-9999)', () => {
    for (const ok of ['2026-12-04T10:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-12-04T10:00:00+01:00']) expect([ok, isStorableDateTime(ok)]).toEqual([ok, true]);
    for (const bad of ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:00:00-05:00', '2020-02-30T00:00:00Z', '2026-12-04', '2026-12-04T10:00:00', 'tomorrow']) expect([bad, isStorableDateTime(bad)]).toEqual([bad, false]);
  });

  it('refuses a year-0000 period with a pointer, as a schema error', () => {
    const schemas = loadSchemas();
    try {
      schemas.check('statement-request.v1', { party: '00000000-0000-4000-8000-000000000000', from: '0000-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z' });
      throw new Error('expected a refusal');
    } catch (e) {
      expect((e as DomainError).code).toBe('VALIDATION_FAILED');
      expect(((e as DomainError).extensions.errors as Array<{ pointer: string }>).map((x) => x.pointer)).toEqual(['/from']);
    }
  });
});
