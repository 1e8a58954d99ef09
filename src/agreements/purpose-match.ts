/**
 * Purpose matching: is a requested purpose allowed by the granted ones? The
 * vocabulary (GA4GH DUO plus space-specific codes, `contracts/purposes.json`)
 * is a hierarchy where a child is a narrower purpose than its parents, so a
 * grant covers its own code and everything below it. Pure: no I/O beyond the
 * JSON module import, and it fails closed on any code it does not know.
 */
import purposesJson from '../../contracts/purposes.json' with { type: 'json' };

/** Whether a code is a data use permission or a data use modifier (DUO's two trees). */
export type PurposeKind = 'permission' | 'modifier';

/** One code of the vocabulary, as loaded (frozen). */
export interface PurposeTerm {
  readonly code: string;
  readonly shorthand: string | null;
  readonly label: string;
  readonly parents: readonly string[];
  readonly kind: PurposeKind;
  readonly description: string | null;
}

/**
 * A validated, frozen purpose vocabulary. Ancestor sets are computed once at
 * load so that matching, which runs on every contract proposal and every job,
 * is a set lookup rather than a graph walk. Build it with
 * `loadPurposeVocabulary` or `defaultVocabulary`, never by hand, so the
 * invariants (unique codes, known parents, no cycles) always hold.
 */
export interface PurposeVocabulary {
  readonly version: number;
  readonly terms: ReadonlyMap<string, PurposeTerm>;
  readonly ancestors: ReadonlyMap<string, readonly string[]>;
}

/** Why a vocabulary document was refused; stable, for callers and tests. */
export type VocabularyProblem = 'shape' | 'duplicate-code' | 'duplicate-shorthand' | 'missing-parent' | 'kind-mismatch' | 'cycle';

/**
 * Thrown by `loadPurposeVocabulary` when the document is unusable. A broken
 * vocabulary must stop the service at start-up: matching against it would
 * either refuse everything or, worse, allow what it should not.
 */
export class InvalidVocabularyError extends Error {
  override readonly name = 'InvalidVocabularyError';

  constructor(
    readonly problem: VocabularyProblem,
    message: string,
  ) {
    super(`invalid purpose vocabulary: ${message}`);
  }
}

const CODE_PATTERN = /^[A-Z][A-Z0-9]*:[0-9]+$/;

/**
 * Validates a parsed `purposes.json` document and builds the vocabulary.
 * Refuses (InvalidVocabularyError) a wrong shape, a duplicate code or
 * shorthand, a parent that is not in the vocabulary, a parent of the other
 * kind (a permission cannot be narrower than a modifier) and any cycle,
 * because each of those would make "narrower than" ill-defined.
 */
export function loadPurposeVocabulary(json: unknown): PurposeVocabulary {
  if (!isRecord(json) || !Number.isInteger(json.version) || !Array.isArray(json.purposes)) {
    throw new InvalidVocabularyError('shape', 'expected {version: integer, purposes: [...]}');
  }
  const terms = new Map<string, PurposeTerm>();
  const shorthands = new Set<string>();
  json.purposes.forEach((raw: unknown, index: number) => {
    const term = parseTerm(raw, index);
    if (terms.has(term.code)) throw new InvalidVocabularyError('duplicate-code', `${term.code} appears twice`);
    if (term.shorthand !== null) {
      if (shorthands.has(term.shorthand)) throw new InvalidVocabularyError('duplicate-shorthand', `shorthand ${term.shorthand} appears twice`);
      shorthands.add(term.shorthand);
    }
    terms.set(term.code, term);
  });
  for (const term of terms.values()) {
    for (const parent of term.parents) {
      const parentTerm = terms.get(parent);
      if (parentTerm === undefined) throw new InvalidVocabularyError('missing-parent', `${term.code} has unknown parent ${parent}`);
      if (parentTerm.kind !== term.kind) {
        throw new InvalidVocabularyError('kind-mismatch', `${term.kind} ${term.code} has ${parentTerm.kind} parent ${parent}`);
      }
    }
  }
  assertAcyclic(terms);
  const ancestors = new Map<string, readonly string[]>();
  for (const code of terms.keys()) ancestors.set(code, Object.freeze(collectAncestors(terms, code)));
  return Object.freeze({ version: json.version as number, terms, ancestors });
}

let cachedDefault: PurposeVocabulary | undefined;

/**
 * The vocabulary shipped in `contracts/purposes.json`, loaded and validated
 * once per process. The JSON is imported as a module so that tsc copies it
 * into the build and jest resolves it the same way, with no path arithmetic.
 */
export function defaultVocabulary(): PurposeVocabulary {
  cachedDefault ??= loadPurposeVocabulary(purposesJson);
  return cachedDefault;
}

/** Whether `code` is in the vocabulary (exact, case-sensitive match). */
export function isKnownPurpose(vocab: PurposeVocabulary, code: string): boolean {
  return vocab.terms.has(code);
}

/**
 * Whether the requested purpose is allowed by at least one granted purpose:
 * it equals that code or is narrower (a descendant of it). An unknown
 * requested code is refused, and an unknown granted code covers nothing, so
 * a typo or a code from a newer vocabulary can only ever refuse.
 */
export function isPurposeAllowed(vocab: PurposeVocabulary, requested: string, granted: readonly string[]): boolean {
  const above = vocab.ancestors.get(requested);
  if (above === undefined) return false;
  return granted.some((code) => vocab.terms.has(code) && (code === requested || above.includes(code)));
}

/**
 * The codes from `codes` that the vocabulary does not know, deduplicated, in
 * first-seen order: what an error detail should name when a request is refused.
 */
export function unknownPurposes(vocab: PurposeVocabulary, codes: readonly string[]): string[] {
  return [...new Set(codes.filter((code) => !vocab.terms.has(code)))];
}

/**
 * Every code broader than `code` (its parents, their parents, ...), nearest
 * first, without duplicates; empty for a root or an unknown code. A copy, so
 * callers cannot alter the vocabulary.
 */
export function ancestorsOf(vocab: PurposeVocabulary, code: string): string[] {
  return [...(vocab.ancestors.get(code) ?? [])];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseTerm(raw: unknown, index: number): PurposeTerm {
  const where = `purposes[${index}]`;
  if (!isRecord(raw)) throw new InvalidVocabularyError('shape', `${where} is not an object`);
  const { code, shorthand, label, parents, kind, description } = raw;
  if (typeof code !== 'string' || !CODE_PATTERN.test(code)) throw new InvalidVocabularyError('shape', `${where}.code must look like PREFIX:0000000`);
  if (shorthand !== undefined && shorthand !== null && (typeof shorthand !== 'string' || shorthand === '')) {
    throw new InvalidVocabularyError('shape', `${code}: shorthand must be a non-empty string or null`);
  }
  if (typeof label !== 'string' || label === '') throw new InvalidVocabularyError('shape', `${code}: label must be a non-empty string`);
  if (!Array.isArray(parents) || !parents.every((p): p is string => typeof p === 'string')) {
    throw new InvalidVocabularyError('shape', `${code}: parents must be an array of codes`);
  }
  if (new Set(parents).size !== parents.length) throw new InvalidVocabularyError('shape', `${code}: parents repeat a code`);
  if (kind !== 'permission' && kind !== 'modifier') throw new InvalidVocabularyError('shape', `${code}: kind must be permission or modifier`);
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw new InvalidVocabularyError('shape', `${code}: description must be a string`);
  }
  return Object.freeze({
    code,
    shorthand: typeof shorthand === 'string' ? shorthand : null,
    label,
    parents: Object.freeze([...parents]),
    kind,
    description: typeof description === 'string' ? description : null,
  });
}

// Depth-first with the current path "on stack": meeting a code already on
// the path is a cycle. Each code is finished once, so shared ancestors
// (diamonds, several parents) cost nothing extra.
function assertAcyclic(terms: ReadonlyMap<string, PurposeTerm>): void {
  const finished = new Set<string>();
  const onPath: string[] = [];
  const visit = (code: string): void => {
    if (finished.has(code)) return;
    if (onPath.includes(code)) throw new InvalidVocabularyError('cycle', [...onPath.slice(onPath.indexOf(code)), code].join(' -> '));
    onPath.push(code);
    for (const parent of terms.get(code)?.parents ?? []) visit(parent);
    onPath.pop();
    finished.add(code);
  };
  for (const code of terms.keys()) visit(code);
}

// Breadth-first so the nearest ancestors come first.
function collectAncestors(terms: ReadonlyMap<string, PurposeTerm>, code: string): string[] {
  const seen = new Set<string>();
  let frontier = [...(terms.get(code)?.parents ?? [])];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const parent of frontier) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      next.push(...(terms.get(parent)?.parents ?? []));
    }
    frontier = next;
  }
  return [...seen];
}
