import { readFileSync } from 'node:fs';
// The named export, not the default: ajv is CommonJS, and under NodeNext a
// default import types as the module object (not constructable), while
// `Ajv2020` is both declared in 2020.d.ts and detected by Node's CJS lexer.
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  countedElsewhere,
  describeNeeds,
  describeRefusal,
  evaluateRules,
  receivedBounds,
  releaseKey,
  type OwnDataset,
  type ReciprocityFacts,
  type ReciprocityRule,
} from './evaluate-rules.js';

const DAY = 86_400_000;
const NOW = new Date('2025-06-01T12:00:00.000Z');

function daysAgo(days: number, extraMs = 0): Date {
  return new Date(NOW.getTime() - days * DAY + extraMs);
}

function ds(id: string, over: Partial<OwnDataset> = {}): OwnDataset {
  return { id, researchField: 'oncology', kind: 'insight', publishedAt: daysAgo(100), withdrawn: false, hasActiveOffer: true, proven: true, ...over };
}

function facts(over: Partial<ReciprocityFacts> = {}): ReciprocityFacts {
  return { requesterId: 'p-1', now: NOW, ownDatasets: [], releases: new Map(), ...over };
}

const minContrib = (over: Partial<ReciprocityRule> = {}): ReciprocityRule => ({
  id: 'r-min', kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight', minCount: 2, minAgeDays: 30, ...over,
});
const shareAll = (over: Partial<ReciprocityRule> = {}): ReciprocityRule => ({
  id: 'r-all', kind: 'share-all', researchField: 'oncology', datasetKind: 'insight', ...over,
});
const giveToGet = (over: Partial<ReciprocityRule> = {}): ReciprocityRule => ({
  id: 'r-g2g', kind: 'give-to-get', researchField: 'oncology', datasetKind: 'insight', ratio: 2, ...over,
});

const releases = (receivedFromOthers: number, givenToOthers: number) => new Map([[releaseKey('oncology', 'insight'), { receivedFromOthers, givenToOthers }]]);

function one(rule: ReciprocityRule, f: ReciprocityFacts) {
  const decision = evaluateRules([rule], f);
  expect(decision.outcomes).toHaveLength(1);
  expect(decision.allowed).toBe(decision.outcomes[0].holds);
  return decision.outcomes[0];
}

describe('evaluateRules: combination', () => {
  it('allows when there are no rules', () => {
    expect(evaluateRules([], facts())).toEqual({ allowed: true, outcomes: [] });
  });
  it('refuses when any rule fails and keeps outcomes in rule order', () => {
    const d = evaluateRules([minContrib({ minCount: 1 }), giveToGet({ ratio: 1 })], facts({ ownDatasets: [ds('a')] }));
    expect(d.allowed).toBe(false);
    expect(d.outcomes.map((o) => [o.ruleId, o.holds])).toEqual([['r-min', true], ['r-g2g', false]]);
  });
  it('fails closed when the rule list is not an array', () => {
    const d = evaluateRules(null as unknown as ReciprocityRule[], facts());
    expect(d.allowed).toBe(false);
    expect(d.outcomes[0].missing).toMatch(/^rule cannot be evaluated:/);
  });
});

describe('minimum-contribution', () => {
  it('holds with exactly minCount qualifying datasets, evidence sorted', () => {
    const o = one(minContrib(), facts({ ownDatasets: [ds('b'), ds('a')] }));
    expect(o).toEqual({ ruleId: 'r-min', kind: 'minimum-contribution', researchField: 'oncology', holds: true, evidence: ['a', 'b'], missing: '' });
  });
  it('refuses with minCount - 1 and says what is missing', () => {
    const o = one(minContrib(), facts({ ownDatasets: [ds('a')] }));
    expect(o.holds).toBe(false);
    expect(o.evidence).toEqual(['a']);
    expect(o.missing).toBe('needs 2 contributed (shared and shown real) insight datasets in oncology published ≥30 days ago, has 1');
  });
  it('counts a dataset published exactly minAgeDays ago', () => {
    const o = one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('a', { publishedAt: daysAgo(30) })] }));
    expect(o.holds).toBe(true);
  });
  it('does not count one published a second too late', () => {
    const o = one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('a', { publishedAt: daysAgo(30, 1000) })] }));
    expect(o.holds).toBe(false);
    expect(o.evidence).toEqual([]);
  });
  it('defaults minAgeDays to 0: a dataset published now counts', () => {
    const o = one(minContrib({ minCount: 1, minAgeDays: undefined }), facts({ ownDatasets: [ds('a', { publishedAt: NOW })] }));
    expect(o.holds).toBe(true);
  });
  it('does not count withdrawn datasets or datasets without an active offer', () => {
    const o = one(minContrib(), facts({ ownDatasets: [ds('a'), ds('w', { withdrawn: true }), ds('n', { hasActiveOffer: false })] }));
    expect(o.holds).toBe(false);
    expect(o.evidence).toEqual(['a']);
  });
  it('refuses a requester with no contributions', () => {
    const o = one(minContrib({ minCount: 1, minAgeDays: 0 }), facts());
    expect(o.holds).toBe(false);
    expect(o.missing).toBe('needs 1 contributed (shared and shown real) insight dataset in oncology, has 0');
  });
  it('does not count datasets of another field or kind', () => {
    const o = one(minContrib(), facts({ ownDatasets: [ds('a'), ds('g', { researchField: 'genomics' }), ds('r', { kind: 'raw' })] }));
    expect(o.holds).toBe(false);
    expect(o.evidence).toEqual(['a']);
  });
  it('counts a duplicated dataset row once', () => {
    expect(one(minContrib(), facts({ ownDatasets: [ds('a'), ds('a')] })).holds).toBe(false);
  });
  it('fails closed on an invalid publishedAt of a relevant dataset', () => {
    const o = one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('a', { publishedAt: new Date('nope') })] }));
    expect(o.missing).toBe('rule cannot be evaluated: publishedAt of dataset a is not a valid date');
  });
  it('fails closed on an invalid now', () => {
    expect(one(minContrib(), facts({ now: new Date(NaN) })).missing).toMatch(/^rule cannot be evaluated: now/);
  });
});

describe('share-all', () => {
  it('holds when every relevant dataset is shared, ignoring other fields and kinds', () => {
    const o = one(shareAll(), facts({ ownDatasets: [ds('b'), ds('a'), ds('g', { researchField: 'genomics', withdrawn: true }), ds('r', { kind: 'raw', hasActiveOffer: false })] }));
    expect(o).toMatchObject({ holds: true, evidence: ['a', 'b'], missing: '' });
  });
  it('refuses when one dataset is withheld and names it', () => {
    const o = one(shareAll(), facts({ ownDatasets: [ds('a'), ds('w', { withdrawn: true }), ds('n', { hasActiveOffer: false })] }));
    expect(o.holds).toBe(false);
    expect(o.evidence).toEqual(['a']);
    expect(o.missing).toBe('withholds insight datasets in oncology (withdrawn or without an active offer): n, w');
  });
  it('refuses a requester with no datasets to share', () => {
    const o = one(shareAll(), facts({ ownDatasets: [ds('g', { researchField: 'genomics' })] }));
    expect(o.holds).toBe(false);
    expect(o.missing).toBe('has no insight datasets in oncology to share');
  });
  it('ignores parameters that do not apply to it and does not need release counts', () => {
    const o = one(shareAll({ ratio: 3 }), facts({ ownDatasets: [ds('a')], releases: undefined as unknown as ReciprocityFacts['releases'] }));
    expect(o.holds).toBe(true);
  });
});

describe('give-to-get', () => {
  it('holds at the exact boundary, counting the pending release', () => {
    // 3 received + 1 pending = 4 = 2 x 2 given
    expect(one(giveToGet(), facts({ releases: releases(3, 2) })).holds).toBe(true);
  });
  it('refuses one over the boundary and states the numbers', () => {
    const o = one(giveToGet(), facts({ releases: releases(4, 2) }));
    expect(o).toMatchObject({ holds: false, evidence: [] });
    expect(o.missing).toBe('would receive 5 insight releases in oncology (4 received + 1 pending) but may receive at most 4 (ratio 2 × 2 given + allowance 0)');
  });
  it('honours pendingReleases other than the default', () => {
    expect(one(giveToGet(), facts({ releases: releases(4, 2), pendingReleases: 0 })).holds).toBe(true);
    expect(one(giveToGet(), facts({ releases: releases(2, 2), pendingReleases: 3 })).holds).toBe(false);
  });
  it('adds the allowance, letting a newcomer start', () => {
    expect(one(giveToGet({ allowance: 1 }), facts()).holds).toBe(true);
    expect(one(giveToGet({ allowance: 1 }), facts({ releases: releases(1, 0) })).holds).toBe(false);
    // 3 received + 1 pending = 4 = 2 x 1 given + 2 allowance
    expect(one(giveToGet({ allowance: 2 }), facts({ releases: releases(3, 1) })).holds).toBe(true);
    expect(one(giveToGet({ allowance: 2 }), facts({ releases: releases(4, 1) })).holds).toBe(false);
  });
  it('treats an absent field entry as zero counts', () => {
    const o = one(giveToGet(), facts({ releases: new Map([[releaseKey('genomics', 'insight'), { receivedFromOthers: 0, givenToOthers: 50 }]]) }));
    expect(o.holds).toBe(false);
    expect(o.missing).toContain('(0 received + 1 pending)');
  });
  it('counts only releases of the rule\'s dataset kind', () => {
    // Plenty given of raw data does not pay for insight releases.
    const f = facts({ releases: new Map([[releaseKey('oncology', 'raw'), { receivedFromOthers: 0, givenToOthers: 50 }], [releaseKey('oncology', 'insight'), { receivedFromOthers: 1, givenToOthers: 0 }]]) });
    expect(one(giveToGet({ allowance: 1 }), f).holds).toBe(false);
    expect(one(giveToGet({ allowance: 1, datasetKind: 'raw' }), f).holds).toBe(true);
  });
  it('reads a field named like an Object.prototype member as zero counts', () => {
    expect(one(giveToGet({ researchField: 'constructor', allowance: 1 }), facts()).holds).toBe(true);
  });
  it('keeps fractional ratios on the boundary despite binary rounding', () => {
    // 0.29 * 100 is 28.999999999999996 in floating point
    expect(one(giveToGet({ ratio: 0.29 }), facts({ releases: releases(28, 100) })).holds).toBe(true);
    expect(one(giveToGet({ ratio: 0.29 }), facts({ releases: releases(29, 100) })).holds).toBe(false);
  });
  it('fails closed when release counts were not provided at all', () => {
    const o = one(giveToGet({ allowance: 100 }), facts({ releases: undefined as unknown as ReciprocityFacts['releases'] }));
    expect(o.missing).toBe('rule cannot be evaluated: release counts were not provided');
  });
  it('fails closed on negative, fractional or non-finite counts', () => {
    for (const bad of [-1, 1.5, NaN, Infinity]) {
      expect(one(giveToGet({ allowance: 100 }), facts({ releases: releases(bad, 0) })).missing).toMatch(/^rule cannot be evaluated: receivedFromOthers/);
    }
    expect(one(giveToGet({ allowance: 100 }), facts({ pendingReleases: -1 })).missing).toMatch(/^rule cannot be evaluated: pendingReleases/);
  });
});

const releasesOf = (receivedFromOthers: number, givenToOthers: number) => new Map([[releaseKey('oncology', 'insight'), { receivedFromOthers, givenToOthers }]]);

describe('fail closed on bad rules', () => {
  const opts = facts({ ownDatasets: [ds('a'), ds('b')], releases: releasesOf(0, 100) });
  it('refuses an unknown kind', () => {
    const d = evaluateRules([{ ...shareAll(), id: 'r-x', kind: 'share-some' }], opts);
    expect(d.allowed).toBe(false);
    expect(d.outcomes[0]).toMatchObject({ ruleId: 'r-x', kind: 'share-some', holds: false, evidence: [] });
    expect(d.outcomes[0].missing).toBe('rule cannot be evaluated: unknown kind "share-some"');
  });
  it('refuses a rule missing its required parameter', () => {
    expect(one(minContrib({ minCount: undefined }), opts).missing).toBe('rule cannot be evaluated: minCount is missing');
    expect(one(giveToGet({ ratio: undefined }), opts).missing).toBe('rule cannot be evaluated: ratio is missing');
  });
  it('refuses non-finite, negative or out-of-domain parameters', () => {
    const bad: ReciprocityRule[] = [
      minContrib({ minCount: 0 }), minContrib({ minCount: 1.5 }), minContrib({ minCount: NaN }), minContrib({ minAgeDays: -1 }),
      minContrib({ minAgeDays: Infinity }), giveToGet({ ratio: 0 }), giveToGet({ ratio: -2 }), giveToGet({ ratio: Infinity }),
      giveToGet({ allowance: -1 }), giveToGet({ minCount: '2' as unknown as number, ratio: '2' as unknown as number }),
    ];
    for (const rule of bad) expect(one(rule, opts).missing).toMatch(/^rule cannot be evaluated: /);
  });
  it('refuses a rule with an unknown dataset kind or no research field', () => {
    expect(one(shareAll({ datasetKind: 'derived' as unknown as 'raw' }), opts).missing).toMatch(/^rule cannot be evaluated: datasetKind/);
    expect(one(shareAll({ researchField: '' }), opts).missing).toMatch(/^rule cannot be evaluated: researchField/);
  });
  it('turns an exception inside one rule into a refusal of that rule only', () => {
    const broken = facts({ ownDatasets: [null as unknown as OwnDataset] });
    const d = evaluateRules([shareAll(), giveToGet({ allowance: 1 }), null as unknown as ReciprocityRule], broken);
    expect(d.allowed).toBe(false);
    expect(d.outcomes.map((o) => o.holds)).toEqual([false, true, false]);
    expect(d.outcomes[0].missing).toBe('rule cannot be evaluated: unexpected error during evaluation');
    expect(d.outcomes[2].ruleId).toBe('');
  });
});

describe('describeRefusal', () => {
  it('names every failing rule with its kind and what is missing', () => {
    const d = evaluateRules([minContrib({ id: 'r1' }), shareAll({ id: 'r2' }), giveToGet({ id: 'r3', allowance: 5 })], facts({ ownDatasets: [ds('a')] }));
    const text = describeRefusal(d);
    expect(text).toContain('rule r1 (minimum-contribution in oncology): needs 2 contributed (shared and shown real) insight datasets');
    expect(text).not.toContain('r2');
    expect(text).not.toContain('r3');
    const d2 = evaluateRules([minContrib({ id: 'r1' }), { ...shareAll(), id: 'r9', kind: 'mystery' }], facts());
    expect(describeRefusal(d2)).toMatch(/r1 \(minimum-contribution in oncology\).*; rule r9 \(mystery in oncology\): rule cannot be evaluated/);
  });
  it('is empty when the decision allows', () => {
    expect(describeRefusal(evaluateRules([], facts()))).toBe('');
  });
});

describe('reciprocity-rule.v1 schema', () => {
  const read = (rel: string): unknown => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
  const schema = read('../../contracts/reciprocity-rule.v1.schema.json') as { $id: string };
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  const valid = { kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight', minCount: 2 };

  it('has the agreed $id', () => {
    expect(schema.$id).toBe('https://tds.example/contracts/reciprocity-rule.v1.schema.json');
  });
  it('accepts every example', () => {
    const examples = read('../../contracts/examples/reciprocity-rule.v1.examples.json') as unknown[];
    expect(examples.length).toBeGreaterThan(0);
    for (const ex of examples) expect([validate(ex), validate.errors]).toEqual([true, null]);
  });
  it.each([
    ['an unknown kind', { ...valid, kind: 'share-some' }],
    ['minimum-contribution without minCount', { kind: 'minimum-contribution', researchField: 'oncology', datasetKind: 'insight' }],
    ['give-to-get without ratio', { kind: 'give-to-get', researchField: 'oncology', datasetKind: 'insight' }],
    ['ratio on share-all', { kind: 'share-all', researchField: 'oncology', datasetKind: 'insight', ratio: 1 }],
    ['minAgeDays on give-to-get', { kind: 'give-to-get', researchField: 'oncology', datasetKind: 'raw', ratio: 1, minAgeDays: 3 }],
    ['allowance on minimum-contribution', { ...valid, allowance: 1 }],
    ['an unknown property', { ...valid, colour: 'blue' }],
    ['minCount 0', { ...valid, minCount: 0 }],
    ['a fractional minCount', { ...valid, minCount: 1.5 }],
    ['a negative minAgeDays', { ...valid, minAgeDays: -1 }],
    ['ratio 0', { kind: 'give-to-get', researchField: 'oncology', datasetKind: 'raw', ratio: 0 }],
    ['a raw-data kind spelled differently', { ...valid, datasetKind: 'Raw' }],
    ['an empty research field', { ...valid, researchField: '' }],
    ['a research field with a control character', { ...valid, researchField: 'onco\u0007logy' }],
    ['a research field with surrounding spaces', { ...valid, researchField: ' oncology' }],
    ['a research field over 200 characters', { ...valid, researchField: 'x'.repeat(201) }],
    ['a description over 1000 characters', { ...valid, description: 'x'.repeat(1001) }],
  ])('refuses %s', (_name, body) => {
    expect(validate(body)).toBe(false);
  });
  it('points at the forbidden property so the client learns its mistake', () => {
    validate({ kind: 'share-all', researchField: 'oncology', datasetKind: 'insight', ratio: 1 });
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/ratio');
  });
});

describe('contributions count only once shown real', () => {
  it('minimum-contribution ignores a shared dataset nobody has shown to be real, and says when it would count', () => {
    const o = one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('fake', { proven: false }), ds('young', { publishedAt: daysAgo(10) })] }));
    expect(o).toMatchObject({ holds: false, evidence: [], needs: '1 more contributed insight dataset in oncology published ≥30 days ago' });
    expect(o.pending).toEqual(['fake counts once shown real (a completed job on it whose bytes matched, or its data node\'s attestation)', `young counts from ${daysAgo(-20).toISOString()}`]);
    expect(one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('a'), ds('fake', { proven: false })] }))).toMatchObject({ holds: true, evidence: ['a'] });
    // Not strictly true is not proven.
    expect(one(minContrib({ minCount: 1 }), facts({ ownDatasets: [ds('x', { proven: 'yes' as unknown as boolean })] })).holds).toBe(false);
  });
  it('share-all needs at least one shared dataset shown real', () => {
    expect(one(shareAll(), facts({ ownDatasets: [ds('a', { proven: false })] }))).toMatchObject({ holds: false, evidence: ['a'], pending: ['a'] });
    expect(one(shareAll(), facts({ ownDatasets: [ds('a', { proven: false }), ds('b')] })).holds).toBe(true);
  });
});

describe('what one more release needs', () => {
  it('names the shortfall of each kind in words', () => {
    expect(one(minContrib(), facts({ ownDatasets: [ds('a')] })).needs).toBe('1 more contributed insight dataset in oncology published ≥30 days ago');
    expect(one(minContrib({ minCount: 3, minAgeDays: 0 }), facts()).needs).toBe('3 more contributed insight datasets in oncology');
    expect(one(shareAll(), facts({ ownDatasets: [ds('a'), ds('w', { withdrawn: true })] })).needs).toBe('sharing again (an active offer, not withdrawn) insight datasets w');
    expect(one(shareAll(), facts()).needs).toBe('1 more contributed insight dataset in oncology');
  });
  it('give-to-get: exactly the fewest releases given after which the next one is allowed', () => {
    for (const ratio of [0.29, 0.5, 1, 2, 3.7]) {
      for (const allowance of [0, 1, 3]) {
        for (let received = 0; received < 12; received++) {
          for (let given = 0; given < 6; given++) {
            const rule = giveToGet({ ratio, allowance });
            const o = one(rule, facts({ releases: releases(received, given) }));
            if (o.holds) continue;
            const more = Number(/^(\d+) more/.exec(o.needs!)![1]);
            expect(one(rule, facts({ releases: releases(received, given + more) })).holds).toBe(true);
            expect(one(rule, facts({ releases: releases(received, given + more - 1) })).holds).toBe(false);
          }
        }
      }
    }
  });
  it('describeNeeds joins every failing rule, and is empty when allowed', () => {
    const d = evaluateRules([minContrib({ minCount: 1, minAgeDays: 0 }), giveToGet({ ratio: 1 })], facts({ releases: releases(1, 0) }));
    expect(describeNeeds(d)).toBe('one more release needs 1 more contributed insight dataset in oncology (rule r-min, minimum-contribution) and 2 more releases of its contributed insight datasets in oncology to others (rule r-g2g, give-to-get)');
    expect(describeNeeds(evaluateRules([], facts()))).toBe('');
  });
});

describe('receivedBounds: what the release statement re-checks of give-to-get', () => {
  const released = { field: 'oncology', kind: 'insight' as const };
  const counts = (received: number, given: number) => facts({ releases: new Map([[releaseKey('oncology', 'insight'), { receivedFromOthers: received, givenToOthers: given }]]) });

  it('is the largest count after the release for which every rule about the dataset\'s field and kind holds', () => {
    // Exhaustively: whenever the evaluator allows one more release, received + 1 is within the bound, and the
    // bound + 1 would not be allowed (the statement's re-check is exactly the evaluator's comparison).
    for (const ratio of [0.29, 0.5, 1, 2, 3.5]) {
      for (const allowance of [0, 1, 3]) {
        for (let given = 0; given <= 12; given++) {
          const rule = giveToGet({ ratio, allowance });
          const { limit } = receivedBounds([rule], counts(0, given), released);
          for (let received = 0; received <= 40; received++) {
            const allowed = evaluateRules([rule], counts(received, given)).allowed;
            expect({ ratio, allowance, given, received, allowed }).toEqual({ ratio, allowance, given, received, allowed: received + 1 <= limit! });
          }
        }
      }
    }
  });

  it('takes the smallest bound of several rules and ignores other kinds of rule', () => {
    const b = receivedBounds([giveToGet({ id: 'a', ratio: 2, allowance: 5 }), giveToGet({ id: 'b', ratio: 1, allowance: 1 }), minContrib(), shareAll()], counts(0, 4), released);
    expect(b).toEqual({ limit: 5, elsewhere: [] });
    expect(receivedBounds([minContrib(), shareAll()], counts(0, 4), released)).toEqual({ limit: null, elsewhere: [] });
  });

  it('names the other fields and kinds give-to-get rules count, once each, without reading their parameters', () => {
    const rules = [giveToGet({ datasetKind: 'raw' }), giveToGet({ id: 'x', datasetKind: 'raw', ratio: undefined }), giveToGet({ researchField: 'genomics' }), giveToGet()];
    expect(countedElsewhere(rules, released)).toEqual([{ field: 'oncology', kind: 'raw' }, { field: 'genomics', kind: 'insight' }]);
    expect(receivedBounds([giveToGet({ ratio: 1, allowance: 2 }), giveToGet({ researchField: 'genomics' })], counts(0, 0), released)).toEqual({ limit: 2, elsewhere: [{ field: 'genomics', kind: 'insight' }] });
  });
});
