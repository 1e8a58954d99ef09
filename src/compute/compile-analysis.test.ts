import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { AnalysisCompileError, compileAnalysis, quoteIdent, type CompiledQuery } from './compile-analysis.js';
import { decodeGroups, decodeOlsStatistics, decodeQuerySet } from './decode-results.js';
import { fitOls, statisticsOfRows } from './ols.js';
import type { Analysis, DatasetColumn } from './analysis.js';

const schema: DatasetColumn[] = [
  { name: 'patient_id', type: 'string', identifier: true },
  { name: 'ward', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'los_days', type: 'number' },
  { name: 'admitted', type: 'date' },
  { name: 'smoker', type: 'boolean' },
  { name: 'odd "name"', type: 'integer' },
];

function refusal(analysis: unknown): { pointer: string } {
  try {
    compileAnalysis({ analysis: analysis as Analysis, schema, format: 'csv', file: '/data/x.csv' });
  } catch (e) {
    if (e instanceof AnalysisCompileError) return { pointer: e.pointer };
    throw e;
  }
  throw new Error('compiled');
}

describe('compileAnalysis (pure)', () => {
  test('identifiers are quoted, every value is a parameter, no value text in the SQL', () => {
    const plan = compileAnalysis({
      analysis: { type: 'aggregate', groupBy: ['ward', 'odd "name"'], filters: [{ column: 'ward', op: 'in', value: ["x'); DROP TABLE t; --", 'icu'] }, { column: 'age', op: '>=', value: 40 }], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }] },
      schema, format: 'csv', file: "/data/it's.csv",
    });
    expect(plan.main.sql).toContain('"odd ""name"""');
    expect(plan.main.sql).not.toContain('DROP');
    expect(plan.main.sql).not.toContain("it's");
    expect(Object.values(plan.main.params)).toEqual(["/data/it's.csv", "x'); DROP TABLE t; --", 'icu', 40]);
    expect(plan.main.sql).toMatch(/"ward" IN \(CAST\(\$p1 AS VARCHAR\), CAST\(\$p2 AS VARCHAR\)\) AND "age" >= CAST\(\$p3 AS BIGINT\)/);
    expect(plan.querySet?.sql).toContain('FILTER (WHERE');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });

  test('refuses unknown, identifier and wrongly typed columns, and values of the wrong type', () => {
    expect(refusal({ type: 'aggregate', groupBy: ['nope'], measures: [{ fn: 'count' }] }).pointer).toBe('/groupBy/0');
    expect(refusal({ type: 'aggregate', groupBy: ['patient_id'], measures: [{ fn: 'count' }] }).pointer).toBe('/groupBy/0');
    expect(refusal({ type: 'aggregate', measures: [{ fn: 'mean', column: 'ward' }] }).pointer).toBe('/measures/0/column');
    expect(refusal({ type: 'aggregate', filters: [{ column: 'patient_id', op: '=', value: 'p1' }], measures: [{ fn: 'count' }] }).pointer).toBe('/filters/0/column');
    expect(refusal({ type: 'aggregate', filters: [{ column: 'age', op: '=', value: '40' }], measures: [{ fn: 'count' }] }).pointer).toBe('/filters/0/value');
    expect(refusal({ type: 'aggregate', filters: [{ column: 'admitted', op: '<', value: '2020-13-45' }], measures: [{ fn: 'count' }] }).pointer).toBe('/filters/0/value');
    // A date that matches the pattern but does not exist: DuckDB would refuse the cast and the job would fail as a schema mismatch.
    expect(refusal({ type: 'aggregate', filters: [{ column: 'admitted', op: '<', value: '2020-02-30' }], measures: [{ fn: 'count' }] }).pointer).toBe('/filters/0/value');
    expect(refusal({ type: 'aggregate', filters: [{ column: 'age', op: 'LIKE', value: 1 }], measures: [{ fn: 'count' }] }).pointer).toBe('/filters/0/op');
    expect(refusal({ type: 'aggregate', measures: [{ fn: 'exec', column: 'age' }] }).pointer).toBe('/measures/0/fn');
    expect(refusal({ type: 'regression', model: 'ols', outcome: 'ward', predictors: ['age'] }).pointer).toBe('/outcome');
    expect(refusal({ type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['patient_id'] }).pointer).toBe('/predictors/0');
    expect(refusal({ type: 'sql', query: 'select 1' }).pointer).toBe('/type');
  });
});

describe('compiled SQL on a real DuckDB over a CSV', () => {
  let dir: string;
  let file: string;
  let conn: DuckDBConnection;
  const rows: Array<{ id: string; ward: string; age: number; los: number | null; admitted: string; smoker: boolean }> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-compile-'));
    file = path.join(dir, 'p.csv');
    const wards = ['cardiology', 'icu', 'oncology'];
    for (let i = 0; i < 300; i++) {
      const ward = i % 10 === 0 ? 'icu' : wards[i % 3]!;
      rows.push({ id: `P${i}`, ward, age: 20 + (i % 60), los: i % 7 === 0 ? null : 1 + (i % 5) + (i % 3) * 0.5, admitted: `2024-0${1 + (i % 9)}-1${i % 10}`, smoker: i % 4 === 0 });
    }
    const csv = ['patient_id,ward,age,los_days,admitted,smoker,"odd ""name"""', ...rows.map((r) => `${r.id},${r.ward},${r.age},${r.los ?? ''},${r.admitted},${r.smoker},${r.age % 3}`)].join('\n');
    fs.writeFileSync(file, `${csv}\n`);
    conn = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(() => {
    conn?.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (q: CompiledQuery) => (await conn.runAndReadAll(q.sql, q.params)).getRowsJson() as unknown[][];

  test('a grouped count/mean/sum with a filter gives the hand-computed statistics', async () => {
    const analysis: Analysis = { type: 'aggregate', groupBy: ['ward'], filters: [{ column: 'age', op: '>=', value: 30 }], measures: [{ fn: 'count' }, { fn: 'mean', column: 'los_days' }, { fn: 'sum', column: 'los_days' }, { fn: 'median', column: 'age' }] };
    const plan = compileAnalysis({ analysis, schema, format: 'csv', file });
    const qs = decodeQuerySet(await run(plan.querySet!));
    const selected = rows.filter((r) => r.age >= 30);
    expect(qs).toEqual({ total: 300, selected: selected.length });
    const groups = decodeGroups(await run(plan.main), analysis, schema);
    expect(groups.map((g) => g.key[0])).toEqual(['cardiology', 'icu', 'oncology']);
    for (const g of groups) {
      const mine = selected.filter((r) => r.ward === g.key[0]);
      const los = mine.map((r) => r.los).filter((v): v is number => v !== null);
      expect(g.count).toBe(mine.length);
      expect(g.measures[1]!.contributors).toBe(los.length);
      expect(g.measures[1]!.value as number).toBeCloseTo(los.reduce((a, b) => a + b, 0) / los.length, 9);
      expect(g.measures[2]!.value as number).toBeCloseTo(los.reduce((a, b) => a + b, 0), 9);
      expect(g.measures[2]!.absTotal).toBeCloseTo(los.reduce((a, b) => a + b, 0), 9);
      expect(g.measures[2]!.top).toEqual([...los].sort((a, b) => b - a).slice(0, 2));
    }
  });

  test('a regression gives the same fit as the in-memory statistics', async () => {
    const analysis: Analysis = { type: 'regression', model: 'ols', outcome: 'los_days', predictors: ['age', 'smoker'], filters: [{ column: 'ward', op: '!=', value: 'icu' }] };
    const plan = compileAnalysis({ analysis, schema, format: 'csv', file });
    const sqlFit = fitOls(decodeOlsStatistics(await run(plan.main), analysis));
    const used = rows.filter((r) => r.ward !== 'icu' && r.los !== null);
    const memFit = fitOls(statisticsOfRows(['age', 'smoker'], used.map((r) => r.los!), used.map((r) => [r.age, r.smoker ? 1 : 0])));
    if (!sqlFit.ok || !memFit.ok) throw new Error('expected fits');
    expect(sqlFit.n).toBe(used.length);
    sqlFit.terms.forEach((t, i) => {
      expect(t.term).toBe(memFit.terms[i]!.term);
      expect(t.estimate).toBeCloseTo(memFit.terms[i]!.estimate, 8);
      expect(t.stdError).toBeCloseTo(memFit.terms[i]!.stdError, 8);
    });
  });

  test('a filter on a date and an injection attempt as a value select what they say and nothing more', async () => {
    const analysis: Analysis = { type: 'aggregate', filters: [{ column: 'admitted', op: '<', value: '2024-03-01' }, { column: 'ward', op: '!=', value: "' OR 1=1 --" }], measures: [{ fn: 'count' }] };
    const plan = compileAnalysis({ analysis, schema, format: 'csv', file });
    const groups = decodeGroups(await run(plan.main), analysis, schema);
    expect(groups[0]!.count).toBe(rows.filter((r) => r.admitted < '2024-03-01').length);
  });
});
