/**
 * What text the service accepts anywhere: no NUL (PostgreSQL text cannot hold
 * it), no lone UTF-16 surrogates (they cannot be encoded as UTF-8; replacing
 * them would silently make two different strings equal), and JSON no deeper
 * than MAX_DEPTH (recursive code further in — schema validation, canonical
 * JSON — must never overflow its stack), and numbers are finite. One walk, iterative, used by the
 * HTTP edge for every body, query and path and by the token checks.
 */

/** Deepest accepted nesting of arrays and objects in a request body. */
export const MAX_DEPTH = 32;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string is refused, or null when it is acceptable text. */
export function badText(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return null;
}

/** Bidirectional overrides/isolates and other invisible format controls: refused where a name is shown to people. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const INVISIBLE = /[\u0001-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;

/** Why a display name is refused (bidi overrides, invisible or control characters), or null. */
export function badDisplayText(s: string): string | null {
  return badText(s) ?? (INVISIBLE.test(s) ? 'contains a control, bidirectional-override or invisible character' : null);
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The first problem in a parsed JSON value (pointer + reason), or null; walks iteratively. */
export function findBadInput(value: unknown, maxDepth = MAX_DEPTH): { pointer: string; message: string } | null {
  const stack: Array<{ v: unknown; pointer: string; depth: number }> = [{ v: value, pointer: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, pointer, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const why = badText(v);
      if (why) return { pointer: pointer || '/', message: why };
    } else if (typeof v === 'number') {
      // JSON.parse reads 1e400 as Infinity, and coerced query strings can be too: no code expects them.
      if (!Number.isFinite(v)) return { pointer: pointer || '/', message: 'is not a finite number' };
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return { pointer: pointer || '/', message: `is nested deeper than ${maxDepth} levels` };
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        const why = badText(k);
        if (why) return { pointer: `${pointer}/${escapePointer(k)}`, message: `property name ${why}` };
        stack.push({ v: x, pointer: `${pointer}/${escapePointer(k)}`, depth: depth + 1 });
      }
    }
  }
  return null;
}
