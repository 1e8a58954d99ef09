/**
 * Validation of every body and query against the JSON Schemas in contracts/.
 * All schemas compile once at start-up; a bad schema stops the service.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validationFailed } from '../errors.js';
import { findBadInput } from '../input-text.js';
import { packageRoot } from '../package-root.js';

// ajv-formats is CommonJS with only a default export; under ESM it sits on `.default`.
const addFormats = addFormatsImport.default;

const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean; compare: (a: string, b: string) => number | undefined };

/**
 * `date-time` as RFC 3339 and an instant PostgreSQL and JavaScript both hold
 * (UTC years 0001-9999): '0000-01-01T00:00:00Z' is valid RFC 3339 but no
 * timestamptz, and without this it would reach the database as a bare error.
 */
export function isStorableDateTime(s: string): boolean {
  if (!rfc3339.validate(s)) return false;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) return false;
  const year = new Date(t).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/** Prefix of every schema $id in contracts/. */
export const SCHEMA_BASE = 'https://tds.example/contracts/';

/** Compiled validators by $id: bodies strictly, queries with string-to-number coercion. */
export interface SchemaRegistry {
  /** Validate data against the schema with this $id (short name like 'dataset.v1' is fine); throws VALIDATION_FAILED. */
  check<T>(schemaId: string, data: unknown): T;
  /** Validate a query object (strings coerced to the schema's types); throws VALIDATION_FAILED. */
  checkQuery<T>(schemaId: string, query: unknown): T;
  /** Every schema, by $id, for the OpenAPI document. */
  readonly schemas: ReadonlyMap<string, object>;
}

/** The $id of a short schema name ('dataset.v1' -> https://.../dataset.v1.schema.json). */
export function schemaIdOf(name: string): string {
  return name.startsWith('https://') ? name : `${SCHEMA_BASE}${name}.schema.json`;
}

function toErrors(errors: ErrorObject[] | null | undefined): Array<{ pointer: string; message: string }> {
  return (errors ?? []).map((e) => {
    let pointer = e.instancePath || '';
    if (e.keyword === 'required') pointer += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') pointer += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    // "must be equal to one of the allowed values" alone leaves the caller guessing: name them.
    const allowed = e.keyword === 'enum' ? (e.params as { allowedValues?: unknown[] }).allowedValues : undefined;
    const message = allowed ? `must be one of: ${allowed.map((v) => String(v)).join(', ')}` : (e.message ?? 'is invalid');
    return { pointer: pointer || '/', message };
  });
}

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;
const NONE: ReadonlySet<string> = new Set();

/** The top-level properties a query schema types as integers. */
function integerQueryFields(schema: object): ReadonlySet<string> {
  const props = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return new Set(Object.entries(props).filter(([, p]) => p.type === 'integer').map(([k]) => k));
}

/** Load and compile every contracts/*.schema.json. */
export function loadSchemas(dir = path.join(packageRoot(), 'contracts')): SchemaRegistry {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort();
  const schemas = new Map<string, object>();
  const strict = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const coercing = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: true, useDefaults: true });
  for (const ajv of [strict, coercing]) {
    addFormats(ajv);
    ajv.addFormat('date-time', { validate: isStorableDateTime, compare: rfc3339.compare });
  }
  for (const f of files) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { $id?: string };
    if (schema.$id !== `${SCHEMA_BASE}${f}`) throw new Error(`schema ${f} must have $id ${SCHEMA_BASE}${f}`);
    schemas.set(schema.$id, schema);
    strict.addSchema(schema);
    coercing.addSchema(schema);
  }
  const integerFields = new Map([...schemas].map(([id, schema]) => [id, integerQueryFields(schema)]));
  const compiled = new Map<string, ValidateFunction>();
  const compiledQuery = new Map<string, ValidateFunction>();
  for (const id of schemas.keys()) {
    compiled.set(id, strict.getSchema(id)!);
    compiledQuery.set(id, coercing.getSchema(id)!);
  }
  const run = <T>(table: Map<string, ValidateFunction>, name: string, data: unknown, what: string): T => {
    const v = table.get(schemaIdOf(name));
    if (!v) throw new Error(`no schema ${name}`);
    if (!v(data)) {
      const errors = toErrors(v.errors);
      throw validationFailed(`the ${what} does not match ${name}: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, errors);
    }
    return data as T;
  };
  return {
    schemas,
    check: (name, data) => run(compiled, name, data, 'request body'),
    checkQuery: (name, query) => {
      const digitsOnly = integerFields.get(schemaIdOf(name)) ?? NONE;
      for (const [key, raw] of Object.entries(query as object)) {
        // Coercion reads '0x10', '1e2', '+1', ' 1' and '1.0' as numbers; a query integer is written in decimal digits only.
        if (digitsOnly.has(key) && typeof raw === 'string' && !DECIMAL_INTEGER.test(raw)) {
          const bad = { pointer: `/${key}`, message: 'must be a whole number written in decimal digits' };
          throw validationFailed(`the query ${bad.pointer} ${bad.message}`, [bad]);
        }
      }
      const q = run<Record<string, unknown>>(compiledQuery, name, { ...(query as object) }, 'query');
      // Coercion turns '1e400' into Infinity, which no range keyword refuses when the schema caps instead.
      const bad = findBadInput(q);
      if (bad) throw validationFailed(`the query ${bad.pointer} ${bad.message}`, [bad]);
      return q as never;
    },
  };
}
