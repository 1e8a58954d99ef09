/**
 * The analysis form of a compute contract, built from the dataset's declared
 * columns: identifiers are never offered for grouping, filtering or measures,
 * and numeric measures only list numeric columns. What it builds is the
 * `tds.analysis` data the service checks again at submission.
 */
import { call } from '../api.js';
import { field, h, input, select } from '../dom.js';
import { filterValueFits } from '../../../jobs/analysis-check.js';
import type { DatasetView } from '../../../datasets/dataset-view.js';
import type { DatasetV1Column as Column } from '../../../generated/contracts.js';

const WANTED: Record<Column['type'], string> = {
  integer: 'a whole number, such as 42 or -7',
  number: 'a number, such as 4.5',
  boolean: 'true or false',
  date: 'a calendar date YYYY-MM-DD, such as 2025-03-31',
  string: 'text',
};

/**
 * The filter's typed value as the service will check it (filterValueFits of
 * jobs/analysis-check.ts, the submission check's own rule), or an Error
 * naming the column, its type and what it takes: a value the service would
 * refuse is caught here, before an invocation is asked for.
 */
export function filterLiteral(col: Column, raw: string): string | number | boolean {
  let v: string | number | boolean = raw;
  if (col.type === 'integer') v = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  else if (col.type === 'number') v = raw !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  else if (col.type === 'boolean') v = raw === 'true' ? true : raw === 'false' ? false : raw;
  if (!filterValueFits(col.type, v)) {
    throw new Error(`the filter value ${raw === '' ? '(empty)' : `“${raw}”`} does not fit ${col.name}, a${col.type === 'integer' ? 'n' : ''} ${col.type} column: give ${WANTED[col.type]}${col.type === 'integer' ? ' (within ±(2^53 − 1))' : ''}`);
  }
  return v;
}

/** The form and a function reading the analysis it describes (throws with a message when incomplete). */
export async function analysisForm(datasetId: string): Promise<{ el: HTMLElement; value: () => unknown }> {
  const d = await call<DatasetView>('GET', `/v1/datasets/${encodeURIComponent(datasetId)}`);
  const columns = (d.schema?.columns ?? []).filter((c) => !c.identifier);
  const numeric = columns.filter((c) => c.type === 'integer' || c.type === 'number');
  const names = (cs: Column[]): Array<[string, string]> => cs.map((c) => [c.name, `${c.name} (${c.type})`]);
  const groupBy = select('groupBy', names(columns), { multiple: true, size: Math.min(6, Math.max(2, columns.length)) });
  const count = h('input', { type: 'checkbox', name: 'count', checked: true, id: 'measure-count' });
  const fn = select('fn', [['', 'no other measure'], ['sum', 'sum'], ['mean', 'mean'], ['stddev', 'standard deviation'], ['median', 'median'], ['min', 'minimum'], ['max', 'maximum']]);
  const measureColumn = select('measureColumn', names(numeric));
  const filterColumn = select('filterColumn', [['', 'no filter'], ...names(columns)]);
  const op = select('op', [['=', '='], ['!=', '≠'], ['<', '<'], ['<=', '≤'], ['>', '>'], ['>=', '≥']]);
  const filterValue = input('filterValue');
  const el = h('fieldset', { id: 'analysis-form' },
    h('legend', {}, 'Analysis (runs at the provider; only checked aggregates come back)'),
    columns.length === 0 ? h('p', {}, 'This dataset declares no columns.') : null,
    field('Group by', groupBy, 'Up to 4 columns; identifiers are never offered.'),
    h('div', { class: 'check' }, count, h('label', { for: count.id }, 'Count rows')),
    h('div', { class: 'row' }, field('Measure', fn), field('of column', measureColumn)),
    h('div', { class: 'row' }, field('Filter on', filterColumn), field('Operator', op), field('Value', filterValue)));
  const value = () => {
    const measures: Array<Record<string, string>> = [];
    if (count.checked) measures.push({ fn: 'count' });
    if (fn.value) measures.push({ fn: fn.value, column: measureColumn.value });
    if (measures.length === 0) throw new Error('choose at least one measure');
    const chosen = [...groupBy.selectedOptions].map((o) => o.value);
    if (chosen.length > 4) throw new Error('group by at most 4 columns');
    const analysis: Record<string, unknown> = { type: 'aggregate', measures };
    if (chosen.length > 0) analysis.groupBy = chosen;
    if (filterColumn.value) {
      const col = columns.find((c) => c.name === filterColumn.value)!;
      analysis.filters = [{ column: col.name, op: op.value, value: filterLiteral(col, filterValue.value.trim()) }];
    }
    return analysis;
  };
  return { el, value };
}
