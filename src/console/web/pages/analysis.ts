/**
 * The analysis form of a compute contract, built from the dataset's declared
 * columns: identifiers are never offered for grouping, filtering or measures,
 * and numeric measures only list numeric columns. What it builds is the
 * `tds.analysis` data the service checks again at submission.
 */
import { call } from '../api.js';
import { field, h, input, select } from '../dom.js';
import type { DatasetView } from '../../../datasets/dataset-view.js';
import type { DatasetV1Column as Column } from '../../../generated/contracts.js';

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
      const raw = filterValue.value.trim();
      const v = col.type === 'integer' || col.type === 'number' ? Number(raw) : col.type === 'boolean' ? raw === 'true' : raw;
      analysis.filters = [{ column: col.name, op: op.value, value: v }];
    }
    return analysis;
  };
  return { el, value };
}
