/**
 * Analysis -> DuckDB SQL. Pure: the consumer never sends SQL, so the only
 * text that reaches DuckDB is built here from fixed fragments, column names
 * that exist in the dataset's declared schema (always quoted identifiers),
 * and parameter placeholders; every literal value travels as a bound
 * parameter. Anything outside that (unknown or identifier columns, a text
 * column where a number is needed, a value of the wrong type) is refused
 * before a query exists, even though the service checked the same at
 * submission: the node does not trust what it receives.
 */
import type { Analysis, ColumnType, DatasetColumn, Filter, Measure } from './analysis.js';
import { filterValueFits } from '../jobs/analysis-check.js';

/** One parameterised query. */
export interface CompiledQuery {
  sql: string;
  params: Record<string, string | number | boolean>;
}

/** What runs for one analysis: the query-set count (when filtered) and the main query. */
export interface CompiledPlan {
  kind: Analysis['type'];
  querySet?: CompiledQuery;
  main: CompiledQuery;
}

/** The analysis cannot be compiled against this schema; `pointer` names the offending field. */
export class AnalysisCompileError extends Error {
  override readonly name = 'AnalysisCompileError';
  readonly code = 'ANALYSIS_INVALID';

  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** Most groups the main query may return before control (more fails as TOO_MANY_GROUPS). */
export const MAX_RAW_GROUPS = 100_000;

const SQL_TYPE: Record<ColumnType, string> = { integer: 'BIGINT', number: 'DOUBLE', string: 'VARCHAR', boolean: 'BOOLEAN', date: 'DATE' };
const NUMERIC: ReadonlySet<ColumnType> = new Set(['integer', 'number']);
const OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=', 'in']);

/** A double-quoted SQL identifier (embedded quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal (embedded quotes doubled); only used for declared column names and types. */
function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

class Builder {
  readonly params: Record<string, string | number | boolean> = {};
  private next = 0;

  constructor(readonly columns: Map<string, DatasetColumn>) {}

  param(value: string | number | boolean): string {
    const name = `p${this.next++}`;
    this.params[name] = value;
    return `$${name}`;
  }

  /** A column the analysis may use (declared, not an identifier), optionally restricted to some types. */
  column(name: unknown, pointer: string, types?: ReadonlySet<ColumnType>, what = 'a numeric'): DatasetColumn {
    if (typeof name !== 'string') throw new AnalysisCompileError(pointer, 'column must be a string');
    const c = this.columns.get(name);
    if (!c) throw new AnalysisCompileError(pointer, `unknown column ${JSON.stringify(name)}`);
    if (c.identifier) throw new AnalysisCompileError(pointer, `column ${JSON.stringify(name)} is a direct identifier`);
    if (types && !types.has(c.type)) throw new AnalysisCompileError(pointer, `column ${JSON.stringify(name)} is ${c.type}, ${what} column is needed`);
    return c;
  }
}

function compileFilters(b: Builder, filters: Filter[] | undefined, base: string): string[] {
  if (filters !== undefined && !Array.isArray(filters)) throw new AnalysisCompileError(base, 'filters must be an array');
  return (filters ?? []).map((f, i) => {
    const ptr = `${base}/${i}`;
    const c = b.column(f.column, `${ptr}/column`);
    if (!OPS.has(f.op)) throw new AnalysisCompileError(`${ptr}/op`, `unknown operator ${JSON.stringify(f.op)}`);
    const cast = (v: unknown, p: string) => {
      if (!filterValueFits(c.type, v)) throw new AnalysisCompileError(p, `value does not fit column ${c.name} (${c.type})`);
      return `CAST(${b.param(v)} AS ${SQL_TYPE[c.type]})`;
    };
    if (f.op === 'in') {
      if (!Array.isArray(f.value) || f.value.length === 0 || f.value.length > 100) throw new AnalysisCompileError(`${ptr}/value`, 'in needs a list of 1 to 100 values');
      return `${quoteIdent(c.name)} IN (${f.value.map((v, j) => cast(v, `${ptr}/value/${j}`)).join(', ')})`;
    }
    if (Array.isArray(f.value)) throw new AnalysisCompileError(`${ptr}/value`, 'only in takes a list');
    if ((f.op === '<' || f.op === '<=' || f.op === '>' || f.op === '>=') && c.type === 'boolean') throw new AnalysisCompileError(`${ptr}/op`, 'booleans only compare with = and !=');
    return `${quoteIdent(c.name)} ${f.op === '!=' ? '<>' : f.op} ${cast(f.value, `${ptr}/value`)}`;
  });
}

/** The typed relation over the file: every declared column cast to its declared type. */
function sourceRelation(b: Builder, schema: DatasetColumn[], format: 'csv' | 'parquet', file: string): string {
  const fileParam = b.param(file);
  const cols = schema.map((c) => `CAST(${quoteIdent(c.name)} AS ${SQL_TYPE[c.type]}) AS ${quoteIdent(c.name)}`).join(', ');
  if (format === 'parquet') return `SELECT ${cols} FROM read_parquet(${fileParam})`;
  // auto_detect off: the declared schema is the contract, a file that disagrees fails instead of being guessed at.
  const struct = schema.map((c) => `${quoteString(c.name)}: ${quoteString(SQL_TYPE[c.type])}`).join(', ');
  return `SELECT ${cols} FROM read_csv(${fileParam}, header = true, auto_detect = false, columns = {${struct}})`;
}

function measureSql(b: Builder, m: Measure, i: number, topN: number): string[] {
  const ptr = `/measures/${i}`;
  if (m.fn === 'count') return [];
  if (!['sum', 'mean', 'stddev', 'median', 'min', 'max'].includes(m.fn)) throw new AnalysisCompileError(`${ptr}/fn`, `unknown function ${JSON.stringify(m.fn)}`);
  const minmax = m.fn === 'min' || m.fn === 'max';
  const c = b.column(m.column, `${ptr}/column`, minmax ? new Set<ColumnType>(['integer', 'number', 'date']) : NUMERIC, minmax ? 'a numeric or date' : 'a numeric');
  const col = quoteIdent(c.name);
  const dbl = `CAST(${col} AS DOUBLE)`;
  const value = { sum: `sum(${dbl})`, mean: `avg(${dbl})`, stddev: `stddev_samp(${dbl})`, median: `median(${dbl})`, min: `min(${col})`, max: `max(${col})` }[m.fn];
  const parts = [`${value} AS v${i}`, `count(${col}) AS c${i}`];
  if (m.fn === 'sum' || m.fn === 'mean') parts.push(`sum(abs(${dbl})) AS t${i}`, `max(abs(${dbl}), ${topN}) AS k${i}`);
  return parts;
}

/**
 * Compile an analysis for a file (`file` is its path as the sandbox sees
 * it). `topN` is how many largest contributions each sum/mean cell reports
 * (max(dominance.n, 2), the p-ratio needs two). Throws AnalysisCompileError.
 */
export function compileAnalysis(input: { analysis: Analysis; schema: DatasetColumn[]; format: 'csv' | 'parquet'; file: string; topN?: number }): CompiledPlan {
  const { analysis, schema } = input;
  if (!Array.isArray(schema) || schema.length === 0) throw new AnalysisCompileError('/schema', 'the dataset declares no columns');
  const b = new Builder(new Map(schema.map((c) => [c.name, c])));
  const src = sourceRelation(b, schema, input.format, input.file);
  const where = compileFilters(b, analysis.filters, '/filters');
  const whereSql = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  // Both queries share the file parameter; the query-set one only needs it and the filter values.
  const querySet = where.length > 0 ? { sql: `WITH src AS (${src}) SELECT count(*) AS total, count(*) FILTER (WHERE ${where.join(' AND ')}) AS selected FROM src`, params: { ...b.params } } : undefined;

  if (analysis.type === 'aggregate') {
    const groupBy = analysis.groupBy ?? [];
    if (!Array.isArray(groupBy) || groupBy.length > 4) throw new AnalysisCompileError('/groupBy', 'groupBy takes at most 4 columns');
    if (!Array.isArray(analysis.measures) || analysis.measures.length < 1 || analysis.measures.length > 10) throw new AnalysisCompileError('/measures', 'measures takes 1 to 10 entries');
    const groups = groupBy.map((g, i) => quoteIdent(b.column(g, `/groupBy/${i}`).name));
    if (new Set(groups).size !== groups.length) throw new AnalysisCompileError('/groupBy', 'a column is grouped twice');
    const topN = Math.max(2, input.topN ?? 2);
    const select = [...groups, 'count(*) AS n', ...analysis.measures.flatMap((m, i) => measureSql(b, m, i, topN))];
    const tail = groups.length > 0 ? ` GROUP BY ${groups.join(', ')} ORDER BY ${groups.map((g) => `${g} NULLS LAST`).join(', ')}` : '';
    const sql = `WITH src AS (${src}) SELECT ${select.join(', ')} FROM src${whereSql}${tail} LIMIT ${MAX_RAW_GROUPS + 1}`;
    return { kind: 'aggregate', ...(querySet ? { querySet } : {}), main: { sql, params: b.params } };
  }
  if (analysis.type === 'regression') {
    if ((analysis as { model?: unknown }).model !== 'ols') throw new AnalysisCompileError('/model', 'only ols is supported');
    const numericOrBool = new Set<ColumnType>(['integer', 'number', 'boolean']);
    const y = b.column(analysis.outcome, '/outcome', NUMERIC);
    if (!Array.isArray(analysis.predictors) || analysis.predictors.length < 1 || analysis.predictors.length > 10) throw new AnalysisCompileError('/predictors', 'predictors takes 1 to 10 columns');
    const xs = analysis.predictors.map((p, i) => b.column(p, `/predictors/${i}`, numericOrBool, 'a numeric or boolean'));
    const names = [y, ...xs].map((c) => c.name);
    if (new Set(names).size !== names.length) throw new AnalysisCompileError('/predictors', 'a column appears twice in the model');
    const notNull = [y, ...xs].map((c) => `${quoteIdent(c.name)} IS NOT NULL`);
    const d = `SELECT CAST(${quoteIdent(y.name)} AS DOUBLE) AS y, ${xs.map((c, i) => `CAST(${quoteIdent(c.name)} AS DOUBLE) AS x${i}`).join(', ')} FROM src WHERE ${[...where, ...notNull].join(' AND ')}`;
    const m = `SELECT count(*) AS n, avg(y) AS my, ${xs.map((_, i) => `avg(x${i}) AS m${i}`).join(', ')} FROM d`;
    const sums: string[] = [];
    for (let i = 0; i < xs.length; i++) for (let j = i; j < xs.length; j++) sums.push(`sum((x${i} - m${i}) * (x${j} - m${j})) AS s${i}_${j}`);
    xs.forEach((_, i) => sums.push(`sum((x${i} - m${i}) * (y - my)) AS sy${i}`));
    sums.push('sum((y - my) * (y - my)) AS syy');
    const sql = `WITH src AS (${src}), d AS (${d}), m AS (${m}) SELECT any_value(m.n) AS n, any_value(m.my) AS my, ${xs.map((_, i) => `any_value(m${i}) AS m${i}`).join(', ')}, ${sums.join(', ')} FROM d CROSS JOIN m`;
    return { kind: 'regression', ...(querySet ? { querySet } : {}), main: { sql, params: b.params } };
  }
  throw new AnalysisCompileError('/type', `unknown analysis type ${JSON.stringify((analysis as { type?: unknown }).type)}`);
}
