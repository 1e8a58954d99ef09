import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { canonicalBytes, canonicalize, NonJsonValueError, type NonJsonReason } from './canonical-json.js';

// The published RFC 8785 vectors (cyberphone/json-canonicalization testdata),
// shared by every part of the project that signs or verifies canonical JSON.
const vectorsDir = fileURLToPath(new URL('../../test/vectors/jcs', import.meta.url));
const vectorNames = readdirSync(`${vectorsDir}/input`).filter((name) => name.endsWith('.json')).sort();

function reasonOf(run: () => unknown): { reason: NonJsonReason; pointer: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof NonJsonValueError) return { reason: err.reason, pointer: err.pointer };
    throw err;
  }
  throw new Error('expected a NonJsonValueError');
}

describe('canonicalize: RFC 8785 vectors', () => {
  it('finds the vector files', () => {
    expect(vectorNames.length).toBeGreaterThanOrEqual(6);
  });

  it.each(vectorNames)('%s gives the expected bytes exactly', (name) => {
    const input: unknown = JSON.parse(readFileSync(`${vectorsDir}/input/${name}`, 'utf8'));
    const expected = readFileSync(`${vectorsDir}/output/${name}`);
    expect(Buffer.from(canonicalBytes(input)).equals(expected)).toBe(true);
    expect(canonicalize(input)).toBe(expected.toString('utf8'));
  });
});

describe('canonicalize: ordering and numbers', () => {
  it('sorts member names by UTF-16 code units, not code points or locale', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 by code
    // unit although its code point is larger; "Z" < "a" < "é" by code unit.
    const value = { '\uFB33': 1, '\u{1F600}': 2, é: 3, a: 4, Z: 5, '10': 6, '1': 7 };
    expect(canonicalize(value)).toBe('{"1":7,"10":6,"Z":5,"a":4,"é":3,"\u{1F600}":2,"\uFB33":1}');
  });

  it('sorts nested objects and keeps array order', () => {
    expect(canonicalize({ b: [3, { y: 1, x: 2 }, 1], a: {} })).toBe('{"a":{},"b":[3,{"x":2,"y":1},1]}');
  });

  it.each([
    [9007199254740994, '9007199254740994'],
    [1e21, '1e+21'],
    [0.000001, '0.000001'],
    [9.999999999999997e-7, '9.999999999999997e-7'],
    [-0, '0'],
    // Parsed from text: the literal has more digits than a double keeps.
    [Number('333333333.33333329'), '333333333.3333333'],
  ])('serialises %p as %s (ECMAScript number form)', (num, text) => {
    expect(canonicalize(num)).toBe(text);
  });

  it('accepts a shared sub-object that is not a cycle', () => {
    const shared = { k: 'v' };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"k":"v"},"b":[{"k":"v"}]}');
  });

  it('encodes to UTF-8', () => {
    expect(Array.from(canonicalBytes('€'))).toEqual([0x22, 0xe2, 0x82, 0xac, 0x22]);
  });
});

describe('canonicalize: refusals', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const sparse: unknown[] = [1];
  sparse[2] = 3;

  it.each<[string, unknown, NonJsonReason, string]>([
    ['undefined at top level', undefined, 'undefined', ''],
    ['undefined member', { a: undefined }, 'undefined', '/a'],
    ['function at top level', () => 1, 'function', ''],
    ['function member', { a: { f: () => 1 } }, 'function', '/a/f'],
    ['function in array', [() => 1], 'function', '/0'],
    ['NaN', NaN, 'non-finite-number', ''],
    ['Infinity', { n: [Infinity] }, 'non-finite-number', '/n/0'],
    ['-Infinity', -Infinity, 'non-finite-number', ''],
    ['BigInt', 1n, 'bigint', ''],
    ['BigInt member', { n: 10n }, 'bigint', '/n'],
    ['symbol', Symbol('s'), 'symbol', ''],
    ['cycle', cyclic, 'cycle', '/self/back'],
    ['sparse array', sparse, 'sparse-array', '/1'],
    ['Date', { when: new Date(0) }, 'non-plain-object', '/when'],
    ['Map', new Map([['a', 1]]), 'non-plain-object', ''],
    ['lone surrogate in a value', { s: '\uD800' }, 'lone-surrogate', '/s'],
    ['lone surrogate in a name', { '\uDC00': 1 }, 'lone-surrogate', '/\uDC00'],
    ['symbol key', { [Symbol('k')]: 1 }, 'symbol-key', ''],
    ['escaped pointer', { 'a/b': { '~': undefined } }, 'undefined', '/a~1b/~0'],
  ])('refuses %s', (_label, value, reason, pointer) => {
    expect(reasonOf(() => canonicalize(value))).toEqual({ reason, pointer });
    expect(() => canonicalBytes(value)).toThrow(NonJsonValueError);
  });

  it('refuses with an Error whose message names the problem', () => {
    expect(() => canonicalize({ a: NaN })).toThrow(Error);
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: null });
    expect(canonicalize(bare)).toBe('{"a":null,"b":1}');
  });
});

describe('fast path', () => {
  it('gives the library\'s bytes for arbitrary JSON, sorted or not, and for what JSON.parse returns', async () => {
    const fc = (await import('fast-check')).default;
    const { default: library } = await import('canonicalize');
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const expected = library(v);
        expect(canonicalize(v)).toBe(expected);
        expect(canonicalize(JSON.parse(expected!))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
  it('still orders integer-like keys by code unit, not numerically', () => {
    expect(canonicalize({ '9': 1, '10': 2, a: 3 })).toBe('{"10":2,"9":1,"a":3}');
    expect(canonicalize(JSON.parse('{"10":2,"9":1}'))).toBe('{"10":2,"9":1}');
  });
  it('checks lone surrogates on the serialised text: refused in values and names, pairs and look-alike text kept', async () => {
    const { default: library } = await import('canonicalize');
    expect(() => canonicalize({ a: 'x\udbff' })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ a: ['ok', { b: '\udc00y' }] })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ a: 1, ['\ud800']: 2 })).toThrow(NonJsonValueError);
    // A literal backslash-u-d sequence is no surrogate: same bytes as the library.
    for (const v of [{ a: '\\ud800' }, { a: 'C:\\udev' }, { '\\ud9': '😀' }, ['\ud83d\ude00']]) expect(canonicalize(v)).toBe(library(v));
  });
  it('sorts a copy of out-of-order plain JSON: same bytes as the library, "__proto__" kept as a member, the value untouched', async () => {
    const { default: library } = await import('canonicalize');
    const nested = { v: 1, index: 7, kind: 'job.authorized', at: 'x', actor: 'a', subjects: { job: 'j', contract: 'c' }, data: { z: [{ f: 1, e: 2 }], b: null, a: true } };
    expect(canonicalize(nested)).toBe(library(nested));
    expect(Object.keys(nested)).toEqual(['v', 'index', 'kind', 'at', 'actor', 'subjects', 'data']);
    const proto = JSON.parse('{"b":2,"__proto__":{"y":1,"x":0}}') as unknown;
    expect(canonicalize(proto)).toBe('{"__proto__":{"x":0,"y":1},"b":2}');
    expect(canonicalize({ b: 1, '1': 2, a: 3 })).toBe('{"1":2,"a":3,"b":1}');
  });
  it('copies only what is out of order: in-order parents of an out-of-order member, arrays included, the value untouched', async () => {
    const { default: library } = await import('canonicalize');
    const text = '{"a":1,"b":[{"x":1},{"z":2,"y":1},3],"c":{"d":{"f":1,"e":2}},"g":"h"}';
    const value = JSON.parse(text) as unknown;
    expect(canonicalize(value)).toBe(library(value));
    expect(canonicalize(value)).toBe('{"a":1,"b":[{"x":1},{"y":1,"z":2},3],"c":{"d":{"e":2,"f":1}},"g":"h"}');
    expect(JSON.stringify(value)).toBe(text);
    // An in-order object with digit names stays on the fast path; a refusal deep inside is still a refusal.
    expect(canonicalize(JSON.parse('{"1":{"b":1,"a":2},"a":[1]}'))).toBe('{"1":{"a":2,"b":1},"a":[1]}');
    expect(() => canonicalize({ a: 1, b: [{ d: 1, c: Number.POSITIVE_INFINITY }] })).toThrow(NonJsonValueError);
  });
  it('refuses out-of-order values that are not plain JSON, as the full path does', () => {
    expect(() => canonicalize({ b: 1, a: undefined })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ b: 1, a: () => 1 })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ b: 1, a: Number.NaN })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ b: 1, a: { d: 1, c: '\udfff' } })).toThrow(NonJsonValueError);
    expect(() => canonicalize({ b: 1, a: { toJSON: () => 1 } })).toThrow(NonJsonValueError);
  });
  it('still refuses what is not JSON on the fast path\'s fallbacks', () => {
    expect(() => canonicalize({ a: '\ud800' })).toThrow(NonJsonValueError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow(NonJsonValueError);
    expect(() => canonicalize({ a: new Date(0) })).toThrow(NonJsonValueError);
  });
});
