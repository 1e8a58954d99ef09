/**
 * The product's documentation stands alone: every relative link in README.md
 * and docs/*.md names a file or folder of this repository that exists, and
 * docs/api.md lists every operation of the OpenAPI catalogue. No database:
 * it sits with the API tests because it checks the API's reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OPERATIONS } from '../../src/http/openapi.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const documents = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Relative link targets of a Markdown text, outside fenced code blocks and inline code. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [...prose.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')).map((t) => decodeURIComponent(t.split('#')[0]!));
}

describe('documentation links', () => {
  it('finds links the way a Markdown renderer does', () => {
    expect(relativeLinks('see [a](docs/a.md#x), ![i](img/p.png "t") and [w](https://x.org) [h](#top)\n```\n[no](code.md)\n```\n`[no](inline.md)`')).toEqual(['docs/a.md', 'img/p.png']);
  });

  it.each(documents)('every relative link in %s resolves', (doc) => {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
    const missing = relativeLinks(text).filter((t) => !fs.existsSync(path.resolve(ROOT, path.dirname(doc), t)));
    expect(missing).toEqual([]);
  });

  it('docs/api.md lists every operation (add a row to its Endpoints table for a new route)', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
    const absent = OPERATIONS.map((o) => `| ${o.method.toUpperCase()} ${o.path.replace(/\{(\w+)\}/g, ':$1')} |`).filter((row) => !text.includes(row));
    expect(absent).toEqual([]);
  });
});
