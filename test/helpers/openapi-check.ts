/**
 * Every answer an API test receives through `signed()` is checked against the
 * served OpenAPI document: the operation must be documented, the status must
 * be one it lists (or fall to `default`, which is a problem), and the body
 * must match the documented schema. So the document cannot claim a shape the
 * service does not give, and no route answers undocumented.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { loadSchemas } from '../../src/http/validation.js';
import { buildOpenApi } from '../../src/http/openapi.js';

const addFormats = addFormatsImport.default;
const BASE = 'https://tds.example/openapi.json';

interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref: string } }> }> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> };
}

let state: { doc: Doc; ajv: Ajv2020; routes: Array<{ re: RegExp; path: string }> } | undefined;

function init() {
  if (state) return state;
  const doc = buildOpenApi(loadSchemas()) as Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addSchema({ $id: BASE, components: doc.components });
  const routes = Object.keys(doc.paths).map((p) => ({ path: p, re: new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`) }));
  return (state = { doc, ajv, routes });
}

/** Throws when the answer does not match the document; returns the operation path it matched. */
export function checkAnswer(method: string, url: string, status: number, contentType: string | undefined, body: unknown): string {
  const { doc, ajv, routes } = init();
  const path = url.split('?')[0]!;
  const route = routes.find((r) => r.re.test(path));
  const op = route && doc.paths[route.path]![method.toLowerCase()];
  // Unknown paths answer 404 from the app itself; nothing to compare with.
  if (!op) return '';
  let response = op.responses[String(status)] ?? op.responses.default;
  if (!response) throw new Error(`${method.toUpperCase()} ${route.path} answered ${status}, which the OpenAPI document does not list`);
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()!]!;
  const media = (contentType ?? '').split(';')[0]!.trim();
  const content = response.content?.[media];
  if (!content) throw new Error(`${method.toUpperCase()} ${route.path} ${status} answered ${media || 'no content type'}; documented: ${Object.keys(response.content ?? {}).join(', ')}`);
  const validate = ajv.getSchema(`${BASE}${content.schema.$ref}`) ?? ajv.compile({ $ref: `${BASE}${content.schema.$ref}` });
  if (!validate(body)) {
    throw new Error(`${method.toUpperCase()} ${route.path} ${status}: the body does not match ${content.schema.$ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
  return route.path;
}
