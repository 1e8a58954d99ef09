import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import { canonicalEntryText, encodeEntry, entryTime, leafHashOfEntry, leafHashOfText, type LedgerEntry } from './ledger-entry.js';

const entry: LedgerEntry = {
  v: 1,
  index: 7,
  kind: 'job.authorized',
  at: '2025-06-01T12:00:00.123Z',
  actor: 'p_consumer',
  subjects: { job: 'j_1', contract: 'c_1', dataset: 'd_1' },
  data: { purpose: 'DUO:0000007', sha256: 'ab'.repeat(32), invocation: 3 },
};

describe('ledger entry encoding', () => {
  it('is RFC 8785: members sorted, no whitespace', () => {
    expect(canonicalEntryText(entry)).toBe(
      '{"actor":"p_consumer","at":"2025-06-01T12:00:00.123Z","data":{"invocation":3,"purpose":"DUO:0000007","sha256":"' +
        'ab'.repeat(32) +
        '"},"index":7,"kind":"job.authorized","subjects":{"contract":"c_1","dataset":"d_1","job":"j_1"},"v":1}',
    );
    expect(new TextDecoder().decode(encodeEntry(entry))).toBe(canonicalEntryText(entry));
  });

  it('does not depend on member order', () => {
    const shuffled = JSON.parse(JSON.stringify({ data: entry.data, v: 1, subjects: entry.subjects, at: entry.at, actor: entry.actor, kind: entry.kind, index: 7 })) as LedgerEntry;
    expect(toHex(encodeEntry(shuffled))).toBe(toHex(encodeEntry(entry)));
  });

  it('hashes the leaf as SHA-256(0x00 || bytes), the same from the object and from the stored text', () => {
    const expected = sha256(new Uint8Array([0]), utf8(canonicalEntryText(entry)));
    expect(toHex(leafHashOfEntry(entry))).toBe(toHex(expected));
    expect(toHex(leafHashOfText(canonicalEntryText(entry)))).toBe(toHex(expected));
  });

  it('changes the leaf hash when any field changes, the version included', () => {
    const base = toHex(leafHashOfEntry(entry));
    for (const changed of [{ ...entry, index: 8 }, { ...entry, actor: 'p_other' }, { ...entry, v: 2 as unknown as 1 }, { ...entry, data: { ...entry.data, invocation: 4 } }]) {
      expect(toHex(leafHashOfEntry(changed))).not.toBe(base);
    }
  });

  it('refuses values that are not plain JSON instead of guessing', () => {
    expect(() => encodeEntry({ ...entry, data: { when: new Date() } })).toThrow();
    expect(() => encodeEntry({ ...entry, data: { n: Number.NaN } })).toThrow();
  });

  it('writes times in UTC with milliseconds', () => {
    expect(entryTime(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)))).toBe('2025-01-02T03:04:05.006Z');
  });
});

describe('ledger-entry.v1 schema', () => {
  const schema = JSON.parse(readFileSync(new URL('../../contracts/ledger-entry.v1.schema.json', import.meta.url), 'utf8')) as { $id: string };
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);

  it('has the agreed $id', () => {
    expect(schema.$id).toBe('https://tds.example/contracts/ledger-entry.v1.schema.json');
  });
  it('accepts an encoded entry', () => {
    const decoded: unknown = JSON.parse(new TextDecoder().decode(encodeEntry(entry)));
    expect([validate(decoded), validate.errors]).toEqual([true, null]);
  });
  it.each([
    ['another version', { ...entry, v: 2 }],
    ['a negative index', { ...entry, index: -1 }],
    ['a local time', { ...entry, at: '2025-06-01T12:00:00.123+02:00' }],
    ['a time without milliseconds', { ...entry, at: '2025-06-01T12:00:00Z' }],
    ['a non-string subject id', { ...entry, subjects: { job: 1 } }],
    ['an extra member', { ...entry, extra: true }],
    ['a missing member', { v: 1, index: 0, kind: 'job.denied', at: entry.at, actor: 'x', subjects: {} }],
  ])('refuses %s', (_name, value) => {
    expect(validate(value)).toBe(false);
  });
});
