import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError, parseCommandLine as parseWith } from './cli-args.js';
import { COMMANDS } from './commands.js';
import { columnsText, parseColumns, schemaFromOptions } from './dataset-schema-options.js';

const publish = (...options: string[]) => parseWith(['dataset', 'publish', ...options], COMMANDS);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-schema-options-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('--columns', () => {
  it('reads name:type and name:type:identifier, spaces and a trailing comma allowed', () => {
    expect(parseColumns('dataset publish', 'patient_id:string:identifier, age:integer,los_days:number,ward:string,')).toEqual([
      { name: 'patient_id', type: 'string', identifier: true },
      { name: 'age', type: 'integer' },
      { name: 'los_days', type: 'number' },
      { name: 'ward', type: 'string' },
    ]);
  });

  it('passes a type on as typed: the service decides what is a column type', () => {
    expect(parseColumns('dataset publish', 'age:float')).toEqual([{ name: 'age', type: 'float' }]);
  });

  it.each([
    ['age', /--columns item 1 "age" must be name:type or name:type:identifier/],
    ['age:integer,ward', /item 2 "ward"/],
    ['id:string:primary', /item 1 "id:string:primary"/],
    ['a:b:identifier:x', /item 1/],
    [':integer', /item 1/],
    ['age:', /item 1/],
    [' , ', /--columns needs at least one name:type/],
  ])('refuses %j', (text, message) => {
    expect(() => parseColumns('dataset publish', text)).toThrow(UsageError);
    expect(() => parseColumns('dataset publish', text)).toThrow(message);
  });
});

describe('schemaFromOptions', () => {
  it('is undefined without --schema or --columns', () => {
    expect(schemaFromOptions(publish('--title', 't'))).toBeUndefined();
  });

  it('reads the schema object from --schema FILE, other members kept', () => {
    const schema = { columns: [{ name: 'age', type: 'integer' }], note: 'kept as given' };
    expect(schemaFromOptions(publish('--schema', file('s.json', JSON.stringify(schema))))).toEqual(schema);
  });

  it('builds {columns} from --columns', () => {
    expect(schemaFromOptions(publish('--columns', 'ward:string'))).toEqual({ columns: [{ name: 'ward', type: 'string' }] });
  });

  it.each([
    ['a missing file', () => path.join(dir, 'nope.json'), /^dataset publish: --schema: cannot read .*nope\.json: ENOENT$/],
    ['a directory', () => dir, /^dataset publish: --schema: cannot read .*: EISDIR$/],
    ['text that is not JSON', () => file('bad.json', '{"columns": [{"name": "age",}]}'), /^dataset publish: --schema: .*bad\.json is not JSON: /],
    ['a bare list', () => file('list.json', '[{"name": "age", "type": "integer"}]'), /list\.json must be a JSON object with a columns list/],
    ['an object without columns', () => file('wrapped.json', '{"schema": {"columns": []}}'), /wrapped\.json must be a JSON object with a columns list/],
    ['null', () => file('null.json', 'null'), /null\.json must be a JSON object/],
  ])('refuses %s as a usage error naming the file', (_what, make, message) => {
    const p = publish('--schema', make());
    expect(() => schemaFromOptions(p)).toThrow(UsageError);
    expect(() => schemaFromOptions(p)).toThrow(message);
  });

  it('refuses --schema with --columns, and an empty --schema', () => {
    expect(() => schemaFromOptions(publish('--schema', 'x.json', '--columns', 'a:integer'))).toThrow('give --schema or --columns, not both');
    expect(() => schemaFromOptions(publish('--schema='))).toThrow('--schema needs a file');
  });
});

describe('columnsText', () => {
  it('names each column with its type and marks identifiers', () => {
    expect(columnsText([{ name: 'patient_id', type: 'string', identifier: true }, { name: 'age', type: 'integer', identifier: false }])).toBe('patient_id string (identifier), age integer');
  });
});
