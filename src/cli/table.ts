/**
 * The one table formatter of the `tds` list commands: a header row and
 * aligned columns separated by two spaces, so people can read lists of
 * contracts, jobs and datasets with names and titles beside the ids (which
 * stay whole: they are what the next command takes), and the labelled
 * fields of one object (a contract's terms). Pure, unit-tested.
 */

/** One column: its header and how to read a row's cell. */
export interface Column<T> {
  header: string;
  cell(row: T): string | number | null | undefined;
  /** Right-align (counts). */
  right?: boolean;
  /** Longest cell shown; a longer one is cut with an ellipsis (titles, names). */
  max?: number;
}

// Control characters (a name with a newline or an escape sequence) would break or repaint the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function text(v: string | number | null | undefined, max?: number): string {
  const s = v === null || v === undefined || v === '' ? '-' : String(v).replace(CONTROL, ' ');
  const chars = Array.from(s);
  return max !== undefined && chars.length > max ? `${chars.slice(0, Math.max(1, max - 1)).join('')}…` : s;
}

/** The table's lines: header, then one line per row; trailing spaces trimmed. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = rows.map((r) => columns.map((c) => text(c.cell(r), c.max)));
  const width = (s: string) => Array.from(s).length;
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((row) => width(row[i]!))));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - width(s));
    return columns[i]!.right ? fill + s : s + fill;
  };
  return [columns.map((c) => c.header), ...cells].map((row) => row.map(pad).join('  ').trimEnd());
}

/** One labelled field: its label (without the colon) and its value, or the lines of a list. */
export type Field = readonly [label: string, value: string | readonly string[]];

/**
 * Labelled lines, `label: value`, with every value starting in one column:
 * one space past the longest label's colon, so no label runs into its value
 * however long it is. A list's further lines continue under its first value;
 * an empty list shows `-`. Control characters become spaces, as in tables.
 */
export function formatFields(fields: readonly Field[]): string[] {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1)) + 1;
  const clean = (s: string) => s.replace(CONTROL, ' ');
  const lines: string[] = [];
  for (const [label, value] of fields) {
    const [first, ...more] = typeof value === 'string' ? [value] : value.length > 0 ? value : ['-'];
    lines.push(`${clean(`${label}:`).padEnd(width)}${clean(first!)}`.trimEnd());
    for (const m of more) lines.push(`${''.padEnd(width)}${clean(m)}`.trimEnd());
  }
  return lines;
}
