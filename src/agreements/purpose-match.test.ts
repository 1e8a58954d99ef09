import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import {
  ancestorsOf,
  defaultVocabulary,
  InvalidVocabularyError,
  isKnownPurpose,
  isPurposeAllowed,
  loadPurposeVocabulary,
  unknownPurposes,
  type VocabularyProblem,
} from './purpose-match.js';

const NRES = 'DUO:0000004';
const GRU = 'DUO:0000042';
const HMB = 'DUO:0000006';
const DS = 'DUO:0000007';
const POA = 'DUO:0000011';
const PERMISSION_ROOT = 'DUO:0000001';
const MODIFIER_ROOT = 'DUO:0000017';
const NPUNCU = 'DUO:0000018';
const NPU = 'DUO:0000045';
const DRUG = 'TDS:0000001';
const CLINICAL = 'TDS:0000002';
const ELDERLY = 'TDS:0000003';

const vocab = defaultVocabulary();

function problemOf(json: unknown): VocabularyProblem {
  try {
    loadPurposeVocabulary(json);
  } catch (err) {
    if (err instanceof InvalidVocabularyError) return err.problem;
    throw err;
  }
  throw new Error('expected an InvalidVocabularyError');
}

function term(code: string, parents: string[] = [], kind = 'permission') {
  return { code, shorthand: null, label: code, parents, kind };
}

describe('isPurposeAllowed with the DUO hierarchy', () => {
  it('allows disease-specific research under an HMB grant', () => {
    expect(isPurposeAllowed(vocab, DS, [HMB])).toBe(true);
  });

  it('refuses HMB under a DS grant', () => {
    expect(isPurposeAllowed(vocab, HMB, [DS])).toBe(false);
  });

  it('lets GRU cover HMB and DS', () => {
    expect(isPurposeAllowed(vocab, HMB, [GRU])).toBe(true);
    expect(isPurposeAllowed(vocab, DS, [GRU])).toBe(true);
    expect(isPurposeAllowed(vocab, GRU, [HMB])).toBe(false);
  });

  it('allows a code under a grant of itself', () => {
    expect(isPurposeAllowed(vocab, HMB, [HMB])).toBe(true);
  });

  it('lets NRES cover every concrete permission (the added GRU and POA edges)', () => {
    const permissions = [...vocab.terms.values()].filter((t) => t.kind === 'permission' && t.code !== PERMISSION_ROOT);
    for (const { code } of permissions) expect([code, isPurposeAllowed(vocab, code, [NRES])]).toEqual([code, true]);
    expect(isPurposeAllowed(vocab, NRES, [GRU])).toBe(false);
  });

  it('keeps POA outside GRU and HMB, as DUO does', () => {
    expect(isPurposeAllowed(vocab, POA, [GRU])).toBe(false);
    expect(isPurposeAllowed(vocab, POA, [HMB])).toBe(false);
  });

  it('needs only one granted code to cover the request', () => {
    expect(isPurposeAllowed(vocab, DS, [POA, HMB])).toBe(true);
    expect(isPurposeAllowed(vocab, DS, [])).toBe(false);
  });

  it('never lets a modifier cover a permission or the reverse', () => {
    expect(isPurposeAllowed(vocab, GRU, [MODIFIER_ROOT])).toBe(false);
    expect(isPurposeAllowed(vocab, NPU, [NRES])).toBe(false);
    expect(isPurposeAllowed(vocab, NPU, [NPUNCU])).toBe(true);
  });

  it('refuses unknown codes on either side', () => {
    expect(isPurposeAllowed(vocab, 'DUO:9999999', [NRES, GRU])).toBe(false);
    expect(isPurposeAllowed(vocab, 'DUO:9999999', ['DUO:9999999'])).toBe(false);
    expect(isPurposeAllowed(vocab, DS, ['DUO:9999999'])).toBe(false);
    expect(isPurposeAllowed(vocab, 'duo:0000007', [HMB])).toBe(false);
    expect(isPurposeAllowed(vocab, 'HMB', [GRU])).toBe(false);
  });
});

describe('isPurposeAllowed with the space-specific codes', () => {
  it('allows elderly care under clinical care, HMB and GRU', () => {
    expect(isPurposeAllowed(vocab, ELDERLY, [CLINICAL])).toBe(true);
    expect(isPurposeAllowed(vocab, ELDERLY, [HMB])).toBe(true);
    expect(isPurposeAllowed(vocab, ELDERLY, [GRU])).toBe(true);
  });

  it('refuses drug development under clinical care, and clinical care under elderly care', () => {
    expect(isPurposeAllowed(vocab, DRUG, [CLINICAL])).toBe(false);
    expect(isPurposeAllowed(vocab, CLINICAL, [ELDERLY])).toBe(false);
  });

  it('allows drug development under HMB but not under DS', () => {
    expect(isPurposeAllowed(vocab, DRUG, [HMB])).toBe(true);
    expect(isPurposeAllowed(vocab, DRUG, [DS])).toBe(false);
  });
});

describe('vocabulary queries', () => {
  it('knows DUO and TDS codes, not others', () => {
    expect(isKnownPurpose(vocab, DS)).toBe(true);
    expect(isKnownPurpose(vocab, ELDERLY)).toBe(true);
    expect(isKnownPurpose(vocab, 'DUO:0000039')).toBe(false);
  });

  it('lists unknown codes once each, in order', () => {
    expect(unknownPurposes(vocab, ['X:1', HMB, 'Y:2', 'X:1'])).toEqual(['X:1', 'Y:2']);
    expect(unknownPurposes(vocab, [HMB, ELDERLY])).toEqual([]);
  });

  it('lists ancestors nearest first', () => {
    expect(ancestorsOf(vocab, ELDERLY)).toEqual([CLINICAL, HMB, GRU, PERMISSION_ROOT, NRES]);
    expect(ancestorsOf(vocab, PERMISSION_ROOT)).toEqual([]);
    expect(ancestorsOf(vocab, 'X:1')).toEqual([]);
  });

  it('hands out copies of ancestor lists', () => {
    ancestorsOf(vocab, DS).push('X:1');
    expect(ancestorsOf(vocab, DS)).not.toContain('X:1');
  });
});

describe('contracts/purposes.json against the DUO sources', () => {
  const csvIds = readFileSync(fileURLToPath(new URL('../../test/vectors/duo/duo.csv', import.meta.url)), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.startsWith('DUO:'))
    .map((line) => line.slice(0, line.indexOf(',')));

  it('contains every permission and modifier of duo.csv', () => {
    expect(csvIds.length).toBeGreaterThanOrEqual(25);
    expect(csvIds.filter((id) => !isKnownPurpose(vocab, id))).toEqual([]);
  });

  it('classifies codes by the DUO root they descend from', () => {
    for (const t of vocab.terms.values()) {
      const root = t.kind === 'permission' ? PERMISSION_ROOT : MODIFIER_ROOT;
      expect([t.code, t.code === root || ancestorsOf(vocab, t.code).includes(root)]).toEqual([t.code, true]);
    }
  });
});

describe('loadPurposeVocabulary refusals', () => {
  it('accepts a small valid vocabulary with several parents', () => {
    const v = loadPurposeVocabulary({ version: 1, purposes: [term('A:1'), term('A:2', ['A:1']), term('A:3', ['A:1']), term('A:4', ['A:2', 'A:3'])] });
    expect(ancestorsOf(v, 'A:4')).toEqual(['A:2', 'A:3', 'A:1']);
  });

  it.each<[string, unknown, VocabularyProblem]>([
    ['not an object', [], 'shape'],
    ['no purposes', { version: 1 }, 'shape'],
    ['bad code', { version: 1, purposes: [term('nocolon')] }, 'shape'],
    ['bad kind', { version: 1, purposes: [term('A:1', [], 'other')] }, 'shape'],
    ['duplicate code', { version: 1, purposes: [term('A:1'), term('A:1')] }, 'duplicate-code'],
    ['duplicate shorthand', { version: 1, purposes: [{ ...term('A:1'), shorthand: 'X' }, { ...term('A:2'), shorthand: 'X' }] }, 'duplicate-shorthand'],
    ['missing parent', { version: 1, purposes: [term('A:1', ['A:9'])] }, 'missing-parent'],
    ['permission under a modifier', { version: 1, purposes: [term('A:1', [], 'modifier'), term('A:2', ['A:1'])] }, 'kind-mismatch'],
    ['self cycle', { version: 1, purposes: [term('A:1', ['A:1'])] }, 'cycle'],
    ['longer cycle', { version: 1, purposes: [term('A:0'), term('A:1', ['A:0', 'A:3']), term('A:2', ['A:1']), term('A:3', ['A:2'])] }, 'cycle'],
  ])('refuses %s', (_label, json, problem) => {
    expect(problemOf(json)).toBe(problem);
  });
});
