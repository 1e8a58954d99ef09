/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes that contracts
 * are hashed and signed over. Serialisation is delegated to `canonicalize`
 * (Samuel Erdtman, co-author of RFC 8785), which passes every published
 * cyberphone vector; this module adds a strict validation pass in front of it
 * because the library follows JSON.stringify's leniency (it silently drops
 * `undefined` and function members, calls `toJSON`, turns Maps into `{}`), and
 * a signature over a silently altered document is worse than a refusal.
 */
import canonicalizeLibrary from 'canonicalize';

/** Why a value was refused; stable, so callers and tests need not parse messages. */
export type NonJsonReason =
  | 'undefined'
  | 'function'
  | 'symbol'
  | 'bigint'
  | 'non-finite-number'
  | 'lone-surrogate'
  | 'cycle'
  | 'sparse-array'
  | 'non-plain-object'
  | 'symbol-key';

/**
 * Thrown when the input is not plain JSON data. It names the offending
 * location as a JSON Pointer (RFC 6901, `""` for the top level) so that a
 * caller building a contract document can tell which field is wrong.
 */
export class NonJsonValueError extends Error {
  override readonly name = 'NonJsonValueError';

  constructor(
    readonly reason: NonJsonReason,
    readonly pointer: string,
    description: string,
  ) {
    super(`cannot canonicalize: ${description} at ${pointer === '' ? 'the top level' : `"${pointer}"`}`);
  }
}

/**
 * The RFC 8785 canonical form of a JSON value, as a string: object members
 * sorted by the UTF-16 code units of their names, no insignificant whitespace,
 * numbers in ECMAScript shortest round-trip form, strings with JSON.stringify
 * escaping. Throws `NonJsonValueError` for anything that is not plain JSON
 * data (undefined, functions, symbols, BigInt, NaN/Infinity, lone surrogates,
 * cycles, sparse arrays, class instances such as Date or Map), rather than
 * guessing what the caller meant.
 */
export function canonicalize(value: unknown): string {
  // Fast path: plain JSON serialises as RFC 8785 with the native JSON.stringify once every object's
  // members are in code-unit order. Already in order (what JSON.parse of canonical text gives back, e.g.
  // every ledger entry an auditor re-checks) is the value itself, no copy; otherwise (an object literal, or
  // what PostgreSQL's jsonb gives back, shortest names first) a copy with the members put in order.
  const ordered = inCodeUnitOrder(value, 0);
  if (ordered !== NOT_PLAIN) {
    const fast = JSON.stringify(ordered);
    // JSON.stringify escapes a lone surrogate as \udXXX (and nothing else as \ud…), so one scan of the
    // output replaces a test of every string and name; a hit (or a literal backslash-u-d) takes the full path.
    if (!fast.includes('\\ud')) return fast;
  }
  assertJsonValue(value, '', new Set());
  const text = canonicalizeLibrary(value);
  // Unreachable after validation; kept so a library change cannot hand back undefined.
  if (text === undefined) throw new NonJsonValueError('undefined', '', 'value has no JSON form');
  return text;
}

/**
 * The UTF-8 bytes of `canonicalize(value)`: what gets hashed and signed.
 * Same refusals as `canonicalize`.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

const encoder = new TextEncoder();
// With the u flag a surrogate pair is one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// Deeper values take the full path, whose walk detects cycles properly.
const FAST_PATH_MAX_DEPTH = 256;

const NOT_PLAIN = Symbol('not plain JSON');

/**
 * The value with every object's members in UTF-16 code-unit order — the value
 * itself where it already is (no copy), else a copy of what had to change —
 * or NOT_PLAIN when it is not plain JSON data (finite numbers, strings, dense
 * arrays, plain objects without symbol keys). JSON.stringify of the result is
 * then exactly the RFC 8785 form (its number and string serialisation are the
 * ones RFC 8785 prescribes), provided no string or name holds a lone
 * surrogate, which the caller checks on the output.
 *
 * An object whose members must be reordered and has a name starting with a
 * digit is NOT_PLAIN: JSON.stringify emits integer-like names first, whatever
 * the insertion order, so such objects take the full path (already in order,
 * they are emitted as they are). Copies are null-prototype objects so a member
 * named "__proto__" stays a member. Any doubt returns NOT_PLAIN and the full
 * path decides.
 */
function inCodeUnitOrder(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      // Lone surrogates are caught on the serialised text (see canonicalize).
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth > FAST_PATH_MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_PLAIN;
      const item: unknown = value[i];
      const member = inCodeUnitOrder(item, depth + 1);
      if (member === NOT_PLAIN) return NOT_PLAIN;
      if (out === undefined && member !== item) {
        out = new Array<unknown>(value.length);
        for (let j = 0; j < i; j++) out[j] = value[j];
      }
      if (out !== undefined) out[i] = member;
    }
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) return NOT_PLAIN;
  const record = value as Record<string, unknown>;
  // Object.keys order is the order JSON.stringify emits (integer-like names first).
  const keys = Object.keys(record);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0 && !(keys[i - 1]! < key)) return sortedCopy(record, keys, depth);
    const item = record[key];
    const member = inCodeUnitOrder(item, depth + 1);
    if (member === NOT_PLAIN) return NOT_PLAIN;
    if (out === undefined && member !== item) {
      out = Object.create(null) as Record<string, unknown>;
      for (let j = 0; j < i; j++) out[keys[j]!] = record[keys[j]!];
    }
    if (out !== undefined) out[key] = member;
  }
  return out ?? value;
}

/** inCodeUnitOrder of an object whose members are out of order: a copy with them in order. */
function sortedCopy(record: Record<string, unknown>, keys: string[], depth: number): unknown {
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of keys.sort()) {
    const first = key.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39) return NOT_PLAIN;
    const member = inCodeUnitOrder(record[key], depth + 1);
    if (member === NOT_PLAIN) return NOT_PLAIN;
    out[key] = member;
  }
  return out;
}

// Walks the value once; `ancestors` holds only the current path so that a
// shared (non-cyclic) sub-object referenced twice is still accepted.
function assertJsonValue(value: unknown, pointer: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (!isWellFormedUtf16(value)) throw new NonJsonValueError('lone-surrogate', pointer, 'string contains a lone surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new NonJsonValueError('non-finite-number', pointer, `${String(value)} is not a JSON number`);
      return;
    case 'boolean':
      return;
    case 'undefined':
      throw new NonJsonValueError('undefined', pointer, 'undefined is not a JSON value');
    case 'function':
      throw new NonJsonValueError('function', pointer, 'a function is not a JSON value');
    case 'symbol':
      throw new NonJsonValueError('symbol', pointer, 'a symbol is not a JSON value');
    case 'bigint':
      throw new NonJsonValueError('bigint', pointer, 'a BigInt is not a JSON value (convert it to a string or number first)');
  }
  if (value === null) return;
  const obj = value as object;
  if (ancestors.has(obj)) throw new NonJsonValueError('cycle', pointer, 'the value contains a cycle');
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) throw new NonJsonValueError('sparse-array', `${pointer}/${i}`, 'array has a hole');
      assertJsonValue(obj[i], `${pointer}/${i}`, ancestors);
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      throw new NonJsonValueError('non-plain-object', pointer, `a ${obj.constructor?.name ?? 'non-plain'} object is not plain JSON data`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new NonJsonValueError('symbol-key', pointer, 'object has symbol-keyed properties');
    }
    for (const [key, member] of Object.entries(obj)) {
      const childPointer = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (!isWellFormedUtf16(key)) throw new NonJsonValueError('lone-surrogate', childPointer, 'member name contains a lone surrogate');
      assertJsonValue(member, childPointer, ancestors);
    }
  }
  ancestors.delete(obj);
}

// String.prototype.isWellFormed is ES2024 (absent from lib ES2023), so check by hand;
// the regex answers the common case (no surrogates at all) natively.
function isWellFormedUtf16(text: string): boolean {
  if (!LONE_SURROGATE.test(text)) return true;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}
