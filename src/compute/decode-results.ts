/**
 * The rows DuckDB returned (as JSON from the sandbox: BIGINT and HUGEINT as
 * strings, DATE as `YYYY-MM-DD`, lists as arrays) turned into the typed
 * statistics disclosure control and the OLS solver take. Pure; a value of
 * an unexpected shape throws, so a confused worker cannot smuggle text into
 * a numeric cell.
 */
import type { AggregateAnalysis, Cell, ColumnType, DatasetColumn, RegressionAnalysis } from './analysis.js';
import type { GroupStat, QuerySet } from './disclosure-control.js';
import type { OlsStatistics } from './ols.js';

type Row = unknown[];

function num(v: unknown, what: string): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what} is not a number`);
  return n;
}

function nullableNum(v: unknown, what: string): number | null {
  return v === null || v === undefined ? null : num(v, what);
}

/** A cell of a declared type, from its JSON form. */
export function decodeCell(v: unknown, type: ColumnType): Cell {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
    case 'number':
      return num(v, 'cell');
    case 'boolean':
      if (typeof v !== 'boolean') throw new Error('cell is not a boolean');
      return v;
    case 'string':
    case 'date':
      if (typeof v !== 'string') throw new Error('cell is not a string');
      return v;
  }
}

/** The query-set answer: one row [total, selected]. */
export function decodeQuerySet(rows: Row[]): QuerySet {
  const r = rows[0];
  if (!r) throw new Error('query-set query returned no row');
  return { total: num(r[0], 'total'), selected: num(r[1], 'selected') };
}

/** Group statistics in the column order compileAnalysis emits: group keys, n, then v/c[/t/k] per measure. */
export function decodeGroups(rows: Row[], analysis: AggregateAnalysis, schema: DatasetColumn[]): GroupStat[] {
  const typeOf = (name: string): ColumnType => schema.find((c) => c.name === name)?.type ?? 'string';
  const groupTypes = (analysis.groupBy ?? []).map(typeOf);
  return rows.map((r) => {
    let i = 0;
    const key = groupTypes.map((t) => decodeCell(r[i++], t));
    const count = num(r[i++], 'count');
    const measures = analysis.measures.map((m) => {
      if (m.fn === 'count') return { value: null, contributors: count };
      const type: ColumnType = m.fn === 'min' || m.fn === 'max' ? typeOf(m.column) : 'number';
      const value = decodeCell(r[i++], type);
      const contributors = num(r[i++], 'contributors');
      if (m.fn !== 'sum' && m.fn !== 'mean') return { value, contributors };
      const absTotal = num(r[i++], 'total');
      const topRaw = r[i++];
      if (topRaw !== null && !Array.isArray(topRaw)) throw new Error('top contributions are not a list');
      const top = ((topRaw as unknown[] | null) ?? []).map((x) => num(x, 'top'));
      return { value, contributors, absTotal, top };
    });
    return { key, count, measures };
  });
}

/** OLS sufficient statistics from the one-row answer: n, ȳ, x̄_i, s_i_j (i ≤ j), sy_i, syy. */
export function decodeOlsStatistics(rows: Row[], analysis: RegressionAnalysis): OlsStatistics {
  const r = rows[0] ?? [];
  const k = analysis.predictors.length;
  let i = 0;
  const n = num(r[i++], 'n');
  const meanY = nullableNum(r[i++], 'mean') ?? 0;
  const meanX = Array.from({ length: k }, () => nullableNum(r[i++], 'mean') ?? 0);
  const sxx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const v = num(r[i++], 'cross-product');
      sxx[a]![b] = v;
      sxx[b]![a] = v;
    }
  }
  const sxy = Array.from({ length: k }, () => num(r[i++], 'cross-product'));
  const syy = num(r[i++], 'sum of squares');
  return { n, predictors: [...analysis.predictors], meanY, meanX, sxx, sxy, syy };
}
