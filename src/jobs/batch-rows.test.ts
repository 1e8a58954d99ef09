import { batchRows } from './release.store.js';

describe('batchRows (the batch release statements\' one parameter)', () => {
  it('carries strings, nulls, integers and dates as JSON, in request order', () => {
    const at = new Date('2026-12-03T07:40:00.000Z');
    expect(JSON.parse(batchRows([['a"b\\c\n', null, 7, at], ['x', undefined, 0, at]]))).toEqual([
      ['a"b\\c\n', null, 7, '2026-12-03T07:40:00.000Z'],
      ['x', null, 0, '2026-12-03T07:40:00.000Z'],
    ]);
  });

  it('nests the JSON values (release, subjects, data, analysis) as JSON and refuses their text', () => {
    const row = ['c', 'u', 'j', 'f', 'p', null, 'd', { token: 't' }, { job: 'j' }, { purpose: 'x' }, 'authorized', 'download', null];
    expect(JSON.parse(batchRows([row]))).toEqual([row]);
    for (const i of [7, 8, 9, 12]) {
      const text = [...row];
      text[i] = '{"a":1}';
      expect(() => batchRows([text])).toThrow(TypeError);
    }
  });

  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1.5, 2 ** 60])('refuses %p, which JSON would turn into null or round', (v) => {
    expect(() => batchRows([['ok', v]])).toThrow(TypeError);
  });
});
