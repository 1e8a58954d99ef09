/**
 * The options of `tds dataset publish` that declare the dataset's columns,
 * which a compute offer needs: `--schema FILE` (the `schema` object of
 * dataset.v1 as JSON, e.g. `{"columns": [{"name": "age", "type":
 * "integer"}]}`) or the compact `--columns "patient_id:string:identifier,
 * age:integer"`. Only the form is checked here (readable JSON, an object
 * with a columns list, `name:type[:identifier]` items); what the columns say
 * (names, types, duplicates) is checked by the service, in one place.
 */
import fs from 'node:fs';
import type { DatasetV1, DatasetV1Column } from '../generated/contracts.js';
import { UsageError, stringOption, type ParsedCommand } from './cli-args.js';

/** The dataset's `schema` as published. */
export type DatasetSchema = NonNullable<DatasetV1['schema']>;

/** The option declarations, to spread into `dataset publish`'s options. */
export const SCHEMA_OPTIONS = { schema: { type: 'string' }, columns: { type: 'string' } } as const;

/** `--schema FILE`: the file's JSON, which must be an object with a `columns` member. */
function schemaFile(command: string, file: string): DatasetSchema {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${command}: --schema: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${command}: --schema: ${file} is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('columns' in parsed)) {
    throw new UsageError(`${command}: --schema: ${file} must be a JSON object with a columns list, e.g. {"columns": [{"name": "age", "type": "integer"}]}`);
  }
  return parsed as DatasetSchema;
}

/** `--columns "name:type[:identifier],..."`: one column per comma-separated item. */
export function parseColumns(command: string, text: string): DatasetV1Column[] {
  const items = text.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${command}: --columns needs at least one name:type`);
  return items.map((item, i) => {
    const parts = item.split(':').map((x) => x.trim());
    const [name, type, flag] = parts;
    if (parts.length < 2 || parts.length > 3 || !name || !type || (parts.length === 3 && flag !== 'identifier')) {
      throw new UsageError(`${command}: --columns item ${i + 1} "${item}" must be name:type or name:type:identifier`);
    }
    // The type is passed on as typed: the service refuses one that is not a column type, with a pointer.
    return { name, type: type as DatasetV1Column['type'], ...(flag ? { identifier: true } : {}) };
  });
}

/** The `schema` that `--schema` or `--columns` declares (not both); undefined when neither is given. */
export function schemaFromOptions(p: ParsedCommand): DatasetSchema | undefined {
  const file = stringOption(p, 'schema');
  const columns = stringOption(p, 'columns');
  if (file !== undefined && columns !== undefined) throw new UsageError(`${p.command}: give --schema or --columns, not both`);
  if (file !== undefined) {
    if (file === '') throw new UsageError(`${p.command}: --schema needs a file`);
    return schemaFile(p.command, file);
  }
  return columns === undefined ? undefined : { columns: parseColumns(p.command, columns) };
}

/** The declared columns in words: `patient_id string (identifier), age integer, ...`. */
export function columnsText(columns: readonly DatasetV1Column[]): string {
  return columns.map((c) => `${c.name} ${c.type}${c.identifier ? ' (identifier)' : ''}`).join(', ');
}
