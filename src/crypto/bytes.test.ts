import { randomBytes } from 'node:crypto';
import * as node from './bytes-node.js';
import * as browser from './bytes-browser.js';

// The console runs bytes-browser.ts where the service runs bytes-node.ts: they must agree byte for byte.
describe('byte primitives: browser and node implementations agree', () => {
  it('on SHA-256 of random parts and of strings', () => {
    for (let i = 0; i < 60; i++) {
      const a = new Uint8Array(randomBytes(i * 13));
      const b = new Uint8Array(randomBytes(i));
      expect(browser.toHex(browser.sha256(a, b))).toBe(node.toHex(node.sha256(a, b)));
      expect(browser.toHex(browser.sha256('ä€' + i, a))).toBe(node.toHex(node.sha256('ä€' + i, a)));
    }
  });

  it('on every shape the one-shot paths take (one part, ASCII prefix + text, short byte parts) and the ones they do not', () => {
    const ref = (...parts: Array<Uint8Array | string>): string => browser.toHex(browser.sha256(...parts));
    const cases: Array<Array<Uint8Array | string>> = [
      [], [''], ['ä€😀'], [new Uint8Array(0)], [new Uint8Array(randomBytes(200))],
      [new Uint8Array([0]), '{"a":"ä€"}'], [new Uint8Array([0x01]), ''], [new Uint8Array([0x7f]), 'x'],
      // A non-ASCII prefix byte is not the same as one UTF-8 character: it must be hashed as a byte.
      [new Uint8Array([0x80]), 'x'], [new Uint8Array([0xff]), 'ä'], [new Uint8Array([0, 1]), 'x'],
      [new Uint8Array([1]), new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))],
      [new Uint8Array(randomBytes(64)), new Uint8Array(randomBytes(64))], [new Uint8Array(randomBytes(64)), new Uint8Array(randomBytes(65))],
      [new Uint8Array(randomBytes(3)), 'text', new Uint8Array(randomBytes(5))], ['a', 'b'],
    ];
    for (const parts of cases) expect(node.toHex(node.sha256(...parts))).toBe(ref(...parts));
    // The scratch buffer behind the short path must not leak into an earlier result.
    const first = node.sha256(new Uint8Array([1]), new Uint8Array(32), new Uint8Array(32));
    const copy = node.toHex(first);
    node.sha256(new Uint8Array([1]), new Uint8Array(32).fill(7), new Uint8Array(32).fill(9));
    expect(node.toHex(first)).toBe(copy);
    expect(first.length).toBe(32);
  });

  it('on hex, base64 and base64url round trips', () => {
    for (let i = 0; i < 80; i++) {
      const bytes = new Uint8Array(randomBytes(i));
      expect(browser.toHex(bytes)).toBe(node.toHex(bytes));
      expect(Array.from(browser.hexToBytes(node.toHex(bytes)))).toEqual(Array.from(bytes));
      expect(browser.toBase64(bytes)).toBe(node.toBase64(bytes));
      expect(Array.from(browser.fromBase64(node.toBase64(bytes)))).toEqual(Array.from(bytes));
      expect(browser.toBase64Url(bytes)).toBe(node.toBase64Url(bytes));
      expect(Array.from(browser.fromBase64Url(node.toBase64Url(bytes)))).toEqual(Array.from(bytes));
    }
  });

  it.each(['not base64!', 'AAE', 'AAF=', ' AAEC', 'AA==AA=='])('both refuse the non-canonical base64 %p', (text) => {
    expect(() => node.fromBase64(text)).toThrow('invalid base64');
    expect(() => browser.fromBase64(text)).toThrow('invalid base64');
  });

  it.each(['a+b', 'AAE=', 'AAF', 'a b'])('both refuse the non-canonical base64url %p', (text) => {
    expect(() => node.fromBase64Url(text)).toThrow('invalid base64url');
    expect(() => browser.fromBase64Url(text)).toThrow('invalid base64url');
  });
});
