import { formatFields, formatTable, type Column } from './table.js';

interface Row { id: string; name: string | null; n: number }
const columns: Column<Row>[] = [
  { header: 'id', cell: (r) => r.id },
  { header: 'name', cell: (r) => r.name, max: 8 },
  { header: 'count', cell: (r) => r.n, right: true },
];

describe('formatTable', () => {
  it('aligns columns under their headers, right-aligns counts, marks empty cells', () => {
    expect(formatTable(columns, [{ id: 'a1', name: 'Lab', n: 5 }, { id: 'b', name: null, n: 120 }])).toEqual([
      'id  name  count',
      'a1  Lab       5',
      'b   -       120',
    ]);
  });

  it('cuts long cells with an ellipsis and neutralises control characters', () => {
    expect(formatTable(columns, [{ id: 'x', name: 'St. Mary Hospital', n: 1 }])[1]).toBe('x   St. Mar…      1');
    expect(formatTable(columns, [{ id: 'x', name: 'a\u001b[2Jb\nc', n: 1 }])[1]).toBe('x   a [2Jb c      1');
  });

  it('prints the header alone for no rows', () => {
    expect(formatTable(columns, [])).toEqual(['id  name  count']);
  });
});

describe('formatFields', () => {
  it('starts every value one space past the longest label, so a long label never runs into its value', () => {
    expect(formatFields([
      ['price', 'free'],
      ['reciprocity rules', 'none named by the offer'],
      ['purposes', ['first', 'second']],
    ])).toEqual([
      'price:             free',
      'reciprocity rules: none named by the offer',
      'purposes:          first',
      '                   second',
    ]);
  });

  it('marks an empty list, trims empty values and neutralises control characters', () => {
    expect(formatFields([['a', []], ['bb', ''], ['c', 'x\u001b[2Jy\nz']])).toEqual(['a:  -', 'bb:', 'c:  x [2Jy z']);
    expect(formatFields([])).toEqual([]);
  });
});
