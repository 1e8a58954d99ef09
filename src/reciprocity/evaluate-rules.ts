/**
 * The pure reciprocity evaluator: given rules and the facts about one
 * requester, decide whether the requester may receive others' datasets. It is
 * called when a contract is proposed and again at every release, on facts the
 * service read, so it does no I/O and takes the time as a fact.
 *
 * Everything fails closed: an unknown kind, a rule missing its parameter, a
 * nonsensical number or an unexpected exception makes that one rule not hold
 * (with a reason) rather than letting the request through or throwing out of
 * the authorisation path. Rules usually come from the database, not straight
 * from a schema-validated body, so the evaluator re-checks what it relies on.
 */
import type { ReciprocityRuleV1 } from '../generated/contracts.js';

/** Which datasets a rule is about: raw data, or insights derived from it. */
export type DatasetKind = ReciprocityRuleV1['datasetKind'];

/**
 * A stored reciprocity rule as the evaluator sees it: the rule as created
 * (reciprocity-rule.v1) with its id, except that `kind` is a plain string,
 * because a rule row may carry a kind this code does not know (a newer
 * schema, a bad migration); such rules must be refused, and the type should
 * not pretend they cannot exist.
 */
export type ReciprocityRule = Omit<ReciprocityRuleV1, 'kind' | 'description'> & { id: string; kind: string };

/**
 * One dataset the requester registered as a provider, whatever its state:
 * withdrawn datasets and datasets without an offer are included, because
 * share-all has to see what is being withheld. `proven` says the dataset was
 * shown real: a completed job on it by another participant whose bytes
 * matched the published digest (the consumer's check of a download, the
 * provider's node's signed result of a compute job), or an attestation by the
 * provider's own data node that its file matches. Only a proven dataset is a
 * contribution: a URL that serves nothing counts for nothing.
 */
export interface OwnDataset {
  id: string;
  researchField: string;
  kind: DatasetKind;
  publishedAt: Date;
  withdrawn: boolean;
  hasActiveOffer: boolean;
  proven: boolean;
}

/**
 * Release counts in one research field and dataset kind, from the jobs
 * table: releases of others' datasets of that kind to the requester, and
 * releases of the requester's proven datasets of that kind to others (a
 * release of a dataset nobody has shown to be real gives nothing).
 */
export interface ReleaseCounts {
  receivedFromOthers: number;
  givenToOthers: number;
}

/** Key of `ReciprocityFacts.releases`: a give-to-get rule counts only releases of its own field and dataset kind. */
export function releaseKey(researchField: string, datasetKind: DatasetKind): string {
  return `${datasetKind}/${researchField}`;
}

/**
 * Everything the evaluator needs to know about the requester, gathered by the
 * service. `releases` is keyed by `releaseKey(field, kind)` (a Map, so a field
 * named like an Object.prototype member is just a key); a key absent from it
 * means no releases of that kind in that field yet (zero counts), whereas
 * `releases` itself being absent means the service did not gather them, and
 * give-to-get rules then cannot be evaluated.
 * `pendingReleases` is how many releases the decision would add (default 1: the
 * release being decided; 0 when only checking standing).
 */
export interface ReciprocityFacts {
  requesterId: string;
  now: Date;
  ownDatasets: OwnDataset[];
  releases: ReadonlyMap<string, ReleaseCounts>;
  pendingReleases?: number;
}

/**
 * The verdict on one rule. `evidence` lists the requester's dataset ids that
 * count toward the rule (sorted, so outcomes compare and log stably), and
 * `missing` is a human sentence saying what is lacking, empty when it holds.
 * `needs`, when the rule does not hold, says what would make it hold for the
 * release being decided ("1 more contributed insight dataset in genomics"),
 * with `pending` naming what is on its way (shared but not yet proven, or not
 * yet old enough).
 */
export interface RuleOutcome {
  ruleId: string;
  kind: string;
  researchField: string;
  holds: boolean;
  evidence: string[];
  missing: string;
  needs?: string;
  pending?: string[];
}

/**
 * The overall verdict: allowed only when every rule holds, with one outcome per
 * rule in input order so the standing endpoint can show each of them.
 */
export interface ReciprocityDecision {
  allowed: boolean;
  outcomes: RuleOutcome[];
}

// Fixed-length days: ages are measured in elapsed time, not calendar days, so
// DST changes and time zones cannot move the boundary.
const DAY_MS = 86_400_000;

/** Thrown internally for a rule that cannot be evaluated; never escapes. */
class Unevaluable extends Error {}

type Verdict = Pick<RuleOutcome, 'holds' | 'evidence' | 'missing' | 'needs' | 'pending'>;

/**
 * Evaluate every rule against the facts and combine them: allowed when all
 * hold, so an empty rule list allows (no rule applies). Never throws: each rule
 * is evaluated on its own and any failure turns into a refusing outcome for
 * that rule alone, with `missing` starting "rule cannot be evaluated:".
 */
export function evaluateRules(rules: readonly ReciprocityRule[], facts: ReciprocityFacts): ReciprocityDecision {
  if (!Array.isArray(rules)) {
    return { allowed: false, outcomes: [unevaluableOutcome({ ruleId: '', kind: '', researchField: '' }, 'the rule list is not an array')] };
  }
  const outcomes = rules.map((rule) => evaluateOne(rule, facts));
  return { allowed: outcomes.every((o) => o.holds), outcomes };
}

/**
 * The detail string for a RECIPROCITY_UNMET refusal: each failing rule by id
 * and kind with what is missing, joined into one sentence list so the client
 * can act on every shortfall at once. Returns '' when nothing fails, because a
 * decision that allows has nothing to explain.
 */
export function describeRefusal(decision: ReciprocityDecision): string {
  const failing = decision.outcomes.filter((o) => !o.holds);
  if (failing.length === 0) return '';
  const parts = failing.map((o) => `rule ${o.ruleId} (${o.kind} in ${o.researchField}): ${o.missing}`);
  return `Reciprocity rules not met: ${parts.join('; ')}.`;
}

function evaluateOne(rule: ReciprocityRule, facts: ReciprocityFacts): RuleOutcome {
  const base = describeRule(rule);
  try {
    const verdict = evaluateKind(rule, facts);
    return { ...base, ...verdict };
  } catch (err) {
    // Only our own reasons are shown; an unexpected exception's message may
    // expose internals, and this text ends up in a 403 body.
    return unevaluableOutcome(base, err instanceof Unevaluable ? err.message : 'unexpected error during evaluation');
  }
}

function evaluateKind(rule: ReciprocityRule, facts: ReciprocityFacts): Verdict {
  if (typeof rule.researchField !== 'string' || rule.researchField === '') throw new Unevaluable('researchField is missing');
  if (rule.datasetKind !== 'raw' && rule.datasetKind !== 'insight') throw new Unevaluable('datasetKind must be raw or insight');
  switch (rule.kind) {
    case 'minimum-contribution':
      return minimumContribution(rule, facts);
    case 'share-all':
      return shareAll(rule, facts);
    case 'give-to-get':
      return giveToGet(rule, facts);
    default:
      throw new Unevaluable(`unknown kind ${JSON.stringify(String(rule.kind))}`);
  }
}

function minimumContribution(rule: ReciprocityRule, facts: ReciprocityFacts): Verdict {
  const minCount = requireNumber(rule.minCount, 'minCount', { integer: true, min: 1 });
  const minAgeDays = rule.minAgeDays === undefined ? 0 : requireNumber(rule.minAgeDays, 'minAgeDays', { min: 0 });
  const now = requireDate(facts.now, 'now');
  const latest = now.getTime() - minAgeDays * DAY_MS;
  const qualifying = new Set<string>();
  const pending = new Set<string>();
  for (const d of relevantDatasets(rule, facts)) {
    if (!isShared(d)) continue;
    // A bad timestamp is a data bug; guessing its age either way could grant
    // or deny wrongly, so the rule is reported as unevaluable instead.
    const published = requireDate(d.publishedAt, `publishedAt of dataset ${d.id}`);
    const oldEnough = published.getTime() <= latest;
    if (oldEnough && isProven(d)) qualifying.add(d.id);
    else if (!oldEnough) pending.add(`${d.id} counts from ${new Date(published.getTime() + minAgeDays * DAY_MS).toISOString()}${isProven(d) ? '' : ' once shown real'}`);
    else pending.add(`${d.id} counts once shown real (a completed job on it whose bytes matched, or its data node's attestation)`);
  }
  const evidence = sortIds(qualifying);
  if (evidence.length >= minCount) return { holds: true, evidence, missing: '' };
  const noun = minCount === 1 ? 'dataset' : 'datasets';
  const age = minAgeDays > 0 ? ` published ≥${minAgeDays} days ago` : '';
  const missing = `needs ${minCount} contributed (shared and shown real) ${rule.datasetKind} ${noun} in ${rule.researchField}${age}, has ${evidence.length}`;
  const more = minCount - evidence.length;
  const needs = `${more} more contributed ${rule.datasetKind} ${more === 1 ? 'dataset' : 'datasets'} in ${rule.researchField}${age}`;
  return { holds: false, evidence, missing, needs, ...(pending.size > 0 ? { pending: sortIds(pending) } : {}) };
}

function shareAll(rule: ReciprocityRule, facts: ReciprocityFacts): Verdict {
  const shared = new Set<string>();
  const withheld = new Set<string>();
  for (const d of relevantDatasets(rule, facts)) (isShared(d) ? shared : withheld).add(d.id);
  // A duplicated row that is both shared and withheld is treated as withheld.
  for (const id of withheld) shared.delete(id);
  const evidence = sortIds(shared);
  if (withheld.size > 0) {
    const ids = sortIds(withheld).join(', ');
    return { holds: false, evidence, missing: `withholds ${rule.datasetKind} datasets in ${rule.researchField} (withdrawn or without an active offer): ${ids}`, needs: `sharing again (an active offer, not withdrawn) ${rule.datasetKind} datasets ${ids}` };
  }
  // "Share your insights to see others' insights": having registered nothing
  // is not having shared, so an empty set does not satisfy share-all, and
  // neither does a set of datasets none of which was ever shown to be real.
  if (evidence.length === 0) {
    return { holds: false, evidence, missing: `has no ${rule.datasetKind} datasets in ${rule.researchField} to share`, needs: `1 more contributed ${rule.datasetKind} dataset in ${rule.researchField}` };
  }
  const proven = relevantDatasets(rule, facts).filter((d) => shared.has(d.id) && isProven(d));
  if (proven.length === 0) {
    return {
      holds: false, evidence, missing: `none of its shared ${rule.datasetKind} datasets in ${rule.researchField} has been shown real yet`,
      needs: `1 of its shared ${rule.datasetKind} datasets in ${rule.researchField} shown real (a completed job on it whose bytes matched, or its data node's attestation)`, pending: evidence,
    };
  }
  return { holds: true, evidence, missing: '' };
}

// The left side of give-to-get's comparison is an integer; rounding the product to 9 decimals keeps
// ratios like 0.29 x 100 (= 28.999999999999996 in binary) on the boundary.
function mayReceiveOf(ratio: number, given: number, allowance: number): number {
  return Math.round((ratio * given + allowance) * 1e9) / 1e9;
}

/** What a release's own statement enforces of the give-to-get rules that allowed it (receivedBounds). */
export interface ReceivedBounds {
  /** The most the requester may have received in the released dataset's field and kind, this release included; null: no rule about them. */
  limit: number | null;
  /** The other (field, kind) pairs give-to-get rules count: the release does not move them, the caller must hold them still. */
  elsewhere: Array<{ field: string; kind: DatasetKind }>;
}

/**
 * For a decision that ALLOWED one release of a dataset of `released`'s field
 * and kind: the bound each give-to-get rule puts on what the requester
 * received, so that the release statement can re-check it at commit against
 * the exact count (a concurrent release may have taken the last one). The
 * bound of a rule about the dataset's own field and kind is the largest count
 * after this release for which it holds: floor(ratio x given + allowance),
 * given as read (it only grows, so the bound only errs on the safe side).
 */
export function receivedBounds(rules: readonly ReciprocityRule[], facts: ReciprocityFacts, released: { field: string; kind: DatasetKind }): ReceivedBounds {
  let limit: number | null = null;
  for (const rule of rules) {
    if (rule.kind !== 'give-to-get' || rule.researchField !== released.field || rule.datasetKind !== released.kind) continue;
    const ratio = requireNumber(rule.ratio, 'ratio', { min: 0, exclusiveMin: true });
    const allowance = rule.allowance === undefined ? 0 : requireNumber(rule.allowance, 'allowance', { integer: true, min: 0 });
    const given = facts.releases.get(releaseKey(rule.researchField, rule.datasetKind))?.givenToOthers ?? 0;
    const bound = Math.floor(mayReceiveOf(ratio, given, allowance));
    limit = limit === null ? bound : Math.min(limit, bound);
  }
  return { limit, elsewhere: countedElsewhere(rules, released) };
}

/** The (field, kind) pairs other than `released`'s whose received counts give-to-get rules compare (no parameter is read). */
export function countedElsewhere(rules: readonly ReciprocityRule[], released: { field: string; kind: DatasetKind }): Array<{ field: string; kind: DatasetKind }> {
  const elsewhere = new Map<string, { field: string; kind: DatasetKind }>();
  for (const rule of rules) {
    if (rule.kind !== 'give-to-get' || (rule.researchField === released.field && rule.datasetKind === released.kind)) continue;
    elsewhere.set(releaseKey(rule.researchField, rule.datasetKind), { field: rule.researchField, kind: rule.datasetKind });
  }
  return [...elsewhere.values()];
}

function giveToGet(rule: ReciprocityRule, facts: ReciprocityFacts): Verdict {
  const ratio = requireNumber(rule.ratio, 'ratio', { min: 0, exclusiveMin: true });
  const allowance = rule.allowance === undefined ? 0 : requireNumber(rule.allowance, 'allowance', { integer: true, min: 0 });
  const pending = facts.pendingReleases === undefined ? 1 : requireNumber(facts.pendingReleases, 'pendingReleases', { integer: true, min: 0 });
  const releases: unknown = facts.releases;
  if (!(releases instanceof Map)) throw new Unevaluable('release counts were not provided');
  const entry = (releases as ReadonlyMap<string, ReleaseCounts>).get(releaseKey(rule.researchField, rule.datasetKind));
  const received = entry === undefined ? 0 : requireNumber(entry.receivedFromOthers, 'receivedFromOthers', { integer: true, min: 0 });
  const given = entry === undefined ? 0 : requireNumber(entry.givenToOthers, 'givenToOthers', { integer: true, min: 0 });
  const wouldReceive = received + pending;
  const mayReceive = mayReceiveOf(ratio, given, allowance);
  if (wouldReceive <= mayReceive) return { holds: true, evidence: [], missing: '' };
  const missing =
    `would receive ${wouldReceive} ${rule.datasetKind} releases in ${rule.researchField} (${received} received + ${pending} pending) ` +
    `but may receive at most ${mayReceive} (ratio ${ratio} × ${given} given + allowance ${allowance})`;
  // The fewest releases given to others after which wouldReceive <= ratio × given + allowance (same rounding as above).
  let more = Math.max(1, Math.ceil((wouldReceive - allowance) / ratio - given - 1e-9));
  while (Math.round((ratio * (given + more) + allowance) * 1e9) / 1e9 < wouldReceive) more++;
  while (more > 1 && Math.round((ratio * (given + more - 1) + allowance) * 1e9) / 1e9 >= wouldReceive) more--;
  const needs = `${more} more ${more === 1 ? 'release' : 'releases'} of its contributed ${rule.datasetKind} datasets in ${rule.researchField} to others`;
  return { holds: false, evidence: [], missing, needs };
}

/** The requester's datasets of the rule's field and kind; others never count. */
function relevantDatasets(rule: ReciprocityRule, facts: ReciprocityFacts): OwnDataset[] {
  if (!Array.isArray(facts.ownDatasets)) throw new Unevaluable('own datasets were not provided');
  return facts.ownDatasets.filter((d) => d.researchField === rule.researchField && d.kind === rule.datasetKind);
}

// Strict comparisons: a missing or non-boolean flag must not count as shared.
function isShared(d: OwnDataset): boolean {
  return d.withdrawn === false && d.hasActiveOffer === true;
}

// Strict too: a dataset counts as a contribution only when it was shown real.
function isProven(d: OwnDataset): boolean {
  return d.proven === true;
}

/**
 * In words, what the release being decided still needs: one phrase per rule
 * that does not hold ("one more release needs 1 more contributed insight
 * dataset in genomics and ..."), or '' when the decision allows.
 */
export function describeNeeds(decision: ReciprocityDecision): string {
  const needs = decision.outcomes.filter((o) => !o.holds).map((o) => `${o.needs ?? o.missing} (rule ${o.ruleId}, ${o.kind})`);
  return needs.length === 0 ? '' : `one more release needs ${needs.join(' and ')}`;
}

// Code-unit order rather than localeCompare: the same on every host.
function sortIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

function requireNumber(value: unknown, name: string, opts: { integer?: boolean; min: number; exclusiveMin?: boolean }): number {
  if (value === undefined || value === null) throw new Unevaluable(`${name} is missing`);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Unevaluable(`${name} is not a finite number`);
  if (opts.integer && !Number.isInteger(value)) throw new Unevaluable(`${name} is not an integer`);
  if (opts.exclusiveMin ? value <= opts.min : value < opts.min) {
    throw new Unevaluable(`${name} must be ${opts.exclusiveMin ? 'greater than' : 'at least'} ${opts.min}, is ${value}`);
  }
  return value;
}

function requireDate(value: unknown, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new Unevaluable(`${name} is not a valid date`);
  return value;
}

// Reading the rule itself can fail (null entry, hostile getter); the outcome
// must still be produced, so each field falls back to a string.
function describeRule(rule: ReciprocityRule): Pick<RuleOutcome, 'ruleId' | 'kind' | 'researchField'> {
  try {
    return { ruleId: String(rule.id), kind: String(rule.kind), researchField: String(rule.researchField) };
  } catch {
    return { ruleId: '', kind: '', researchField: '' };
  }
}

function unevaluableOutcome(base: Pick<RuleOutcome, 'ruleId' | 'kind' | 'researchField'>, reason: string): RuleOutcome {
  return { ...base, holds: false, evidence: [], missing: `rule cannot be evaluated: ${reason}` };
}
