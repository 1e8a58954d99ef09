import { batchRows } from './release.store.js';

describe('batchRows (the batch release statements\' one parameter)', () => {
  it('carries strings, nulls, integers and dates as JSON, in request order', () => {
    const at = new Date('2026-12-03T07:40:00.000Z');
    expect(JSON.parse(batchRows([['a"b\\c\n', null, 7, at], ['x', undefined, 0, at]]))).toEqual([
      ['a"b\\c\n', null, 7, '2026-12-03T07:40:00.000Z'],
      ['x', null, 0, '2026-12-03T07:40:00.000Z'],
    ]);
  });

  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1.5, 2 ** 60])('refuses %p, which JSON would turn into null or round', (v) => {
    expect(() => batchRows([['ok', v]])).toThrow(TypeError);
  });
});
