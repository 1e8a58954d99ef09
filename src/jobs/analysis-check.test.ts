import { DomainError } from '../errors.js';
import { analysisDigestOf, checkAnalysis, type Analysis } from './analysis-check.js';
import type { DatasetColumn } from '../agreements/compute-terms.js';

const columns: DatasetColumn[] = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'sex', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
  { name: 'smoker', type: 'boolean' },
  { name: 'admitted', type: 'date' },
];

function pointers(a: Analysis, allowExtremes = false): string[] {
  try {
    checkAnalysis(a, columns, { allowExtremes });
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('VALIDATION_FAILED');
    return ((e as DomainError).extensions.errors as Array<{ pointer: string }>).map((x) => x.pointer);
  }
}

describe('checkAnalysis', () => {
  it('accepts a grouped count/mean with typed filters', () => {
    expect(pointers({
      type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }],
      filters: [{ column: 'age', op: '>=', value: 65 }, { column: 'smoker', op: '=', value: false }, { column: 'admitted', op: '<', value: '2024-01-01' }, { column: 'sex', op: 'in', value: ['F', 'M'] }],
    })).toEqual([]);
    expect(pointers({ type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age'] })).toEqual([]);
  });

  it('points at unknown, identifier and non-numeric columns', () => {
    expect(pointers({ type: 'aggregate', groupBy: ['ward', 'patient_id'], measures: [{ fn: 'sum', column: 'sex' }, { fn: 'mean', column: 'nope' }] }))
      .toEqual(['/analysis/groupBy/0', '/analysis/groupBy/1', '/analysis/measures/0/column', '/analysis/measures/1/column']);
    expect(pointers({ type: 'aggregate', filters: [{ column: 'patient_id', op: '=', value: 'p1' }], measures: [{ fn: 'count' }] })).toEqual(['/analysis/filters/0/column']);
    expect(pointers({ type: 'regression', model: 'ols', outcome: 'sex', predictors: ['age', 'age2', 'smoker'] }))
      .toEqual(['/analysis/outcome', '/analysis/predictors/1', '/analysis/predictors/2']);
    expect(pointers({ type: 'regression', model: 'ols', outcome: 'age', predictors: ['age'] })).toEqual(['/analysis/predictors/0']);
  });

  it('refuses min/max unless the policy allows extremes', () => {
    const a: Analysis = { type: 'aggregate', measures: [{ fn: 'count' }, { fn: 'max', column: 'age' }, { fn: 'min', column: 'los_days' }] };
    expect(pointers(a)).toEqual(['/analysis/measures/1/fn', '/analysis/measures/2/fn']);
    expect(pointers(a, true)).toEqual([]);
  });

  it('checks filter values against the column type', () => {
    expect(pointers({
      type: 'aggregate', measures: [{ fn: 'count' }],
      filters: [{ column: 'age', op: '=', value: '65' }, { column: 'age', op: '=', value: 6.5 }, { column: 'admitted', op: '=', value: '01/02/2024' }, { column: 'sex', op: 'in', value: ['F', 1] }, { column: 'smoker', op: '<', value: true }],
    })).toEqual(['/analysis/filters/0/value', '/analysis/filters/1/value', '/analysis/filters/2/value', '/analysis/filters/3/value/1', '/analysis/filters/4/op']);
  });

  it('refuses dates that do not exist and integers past the safe range', () => {
    const at = (column: string, value: string | number) => pointers({ type: 'aggregate', measures: [{ fn: 'count' }], filters: [{ column, op: '<', value }] });
    for (const bad of ['2020-02-30', '2021-02-29', '2020-06-31', '2020-13-01', '2020-00-10', '2020-01-00', '0000-01-01', '2020-1-01']) {
      expect(at('admitted', bad)).toEqual(['/analysis/filters/0/value']);
    }
    for (const good of ['2020-02-29', '2000-02-29', '0001-01-01', '9999-12-31', '2020-12-31']) expect(at('admitted', good)).toEqual([]);
    expect(at('age', 1.2345678901234568e29)).toEqual(['/analysis/filters/0/value']);
    expect(at('age', Number.MAX_SAFE_INTEGER + 1)).toEqual(['/analysis/filters/0/value']);
    expect(at('age', Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(at('age', -Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('refuses two result columns with one name', () => {
    const withCount: DatasetColumn[] = [...columns, { name: 'count', type: 'integer' }];
    expect(pointers({ type: 'aggregate', groupBy: ['sex'], measures: [{ fn: 'count' }, { fn: 'count' }] })).toEqual(['/analysis/measures/1']);
    expect(pointers({ type: 'aggregate', measures: [{ fn: 'mean', column: 'age' }, { fn: 'sum', column: 'age' }, { fn: 'mean', column: 'age' }] })).toEqual(['/analysis/measures/2']);
    let p: string[] = [];
    try {
      checkAnalysis({ type: 'aggregate', groupBy: ['count'], measures: [{ fn: 'count' }] }, withCount, { allowExtremes: false });
    } catch (e) {
      p = ((e as DomainError).extensions.errors as Array<{ pointer: string }>).map((x) => x.pointer);
    }
    expect(p).toEqual(['/analysis/measures/0']);
  });

  it('digests the RFC 8785 bytes, independent of key order', () => {
    const a = analysisDigestOf({ type: 'aggregate', measures: [{ fn: 'count' }] });
    const b = analysisDigestOf(JSON.parse('{"measures":[{"fn":"count"}],"type":"aggregate"}') as Analysis);
    expect(a).toBe(b);
    // sha256sum of the canonical text, computed outside the code under test
    expect(a).toBe('013065cdecddd47f84a8ff831ef252298a10039f98a0162b915f8fa12ed4fcf6');
  });
});
