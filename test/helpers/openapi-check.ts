/**
 * Every answer an API test receives through `signed()` is checked against the
 * served OpenAPI document: the operation must be documented, the status must
 * be one it declares explicitly (`default` documents the unexpected, it is
 * never a match), and the body must match the documented schema. So the
 * document cannot claim a shape the service does not give, and no route
 * answers a status its operation does not declare. Given the headers, the
 * headers the answer declares are checked too (present when required, and
 * matching their schema).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { loadSchemas } from '../../src/http/validation.js';
import { buildOpenApi } from '../../src/http/openapi.js';

const addFormats = addFormatsImport.default;
const BASE = 'https://tds.example/openapi.json';

interface Header { $ref?: string; required?: boolean; schema?: object }
interface Answer { $ref?: string; headers?: Record<string, Header>; content?: Record<string, { schema: { $ref: string } }> }
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, Answer> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, Answer>; headers?: Record<string, Header> };
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

const lastSegment = (ref: string) => ref.split('/').pop()!;

// The answer's declared headers: each present when required, and matching its schema when present.
function checkHeaders(doc: Doc, ajv: Ajv2020, what: string, answer: Answer, headers: Record<string, unknown>): void {
  const given = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [name, declared] of Object.entries(answer.headers ?? {})) {
    const h = declared.$ref ? doc.components.headers![lastSegment(declared.$ref)]! : declared;
    const value = given.get(name.toLowerCase());
    if (value === undefined) {
      if (h.required) throw new Error(`${what} has no ${name} header, which the OpenAPI document requires`);
      continue;
    }
    if (h.schema && !ajv.validate(h.schema, value)) throw new Error(`${what}: header ${name}: ${JSON.stringify(value)} does not match ${JSON.stringify(h.schema)}`);
  }
}

/** Throws when the answer does not match the document; returns the operation path it matched. */
export function checkAnswer(method: string, url: string, status: number, contentType: string | undefined, body: unknown, headers?: Record<string, unknown>): string {
  const { doc, ajv, routes } = init();
  const path = url.split('?')[0]!;
  const route = routes.find((r) => r.re.test(path));
  const op = route && doc.paths[route.path]![method.toLowerCase()];
  // Unknown paths answer 404 from the app itself; nothing to compare with.
  if (!route || !op) return '';
  const what = `${method.toUpperCase()} ${route.path} ${status}`;
  let answer = op.responses[String(status)];
  if (!answer) {
    const declared = Object.keys(op.responses).filter((s) => s !== 'default').join(', ');
    const code = (body as { code?: unknown } | null)?.code;
    throw new Error(`${method.toUpperCase()} ${route.path} answered ${status}${typeof code === 'string' ? ` ${code}` : ''}, which the OpenAPI document does not declare for this operation (declared: ${declared})`);
  }
  if (answer.$ref) answer = doc.components.responses[lastSegment(answer.$ref)]!;
  const media = (contentType ?? '').split(';')[0]!.trim();
  const content = answer.content?.[media];
  if (!content) throw new Error(`${what} answered ${media || 'no content type'}; documented: ${Object.keys(answer.content ?? {}).join(', ')}`);
  const validate = ajv.getSchema(`${BASE}${content.schema.$ref}`) ?? ajv.compile({ $ref: `${BASE}${content.schema.$ref}` });
  if (!validate(body)) {
    throw new Error(`${what}: the body does not match ${content.schema.$ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
  if (headers) checkHeaders(doc, ajv, what, answer, headers);
  return route.path;
}
