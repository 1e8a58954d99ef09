import { outputPolicyFromOptions } from './output-policy-options.js';
import { UsageError, type ParsedCommand } from './cli-args.js';

const parsed = (values: ParsedCommand['values']): ParsedCommand => ({ command: 'offer create', values, positionals: ['d'], rest: [] });

describe('offer create output-policy options', () => {
  test('no option: no policy (the service fills the defaults)', () => {
    expect(outputPolicyFromOptions(parsed({}))).toBeUndefined();
  });

  test('shorthands override the JSON base field by field', () => {
    expect(outputPolicyFromOptions(parsed({
      'output-policy': '{"minCellCount": 20, "roundTo": 10}', 'round-to': '1', dominance: '3:0.8', 'p-ratio': '0.2', 'allow-extremes': true,
      'noise-epsilon': '0.5', approvals: '2', reviewers: 'r1, r2',
    }))).toEqual({ minCellCount: 20, roundTo: 1, dominance: { n: 3, k: 0.8 }, pRatio: 0.2, allowExtremes: true, noise: { mechanism: 'discrete-laplace', epsilon: 0.5 }, review: { approvals: 2, reviewers: ['r1', 'r2'] } });
  });

  test('malformed values are usage errors', () => {
    expect(() => outputPolicyFromOptions(parsed({ dominance: '2' }))).toThrow(UsageError);
    expect(() => outputPolicyFromOptions(parsed({ 'p-ratio': '2' }))).toThrow(UsageError);
    expect(() => outputPolicyFromOptions(parsed({ 'noise-epsilon': '0' }))).toThrow(UsageError);
    expect(() => outputPolicyFromOptions(parsed({ 'output-policy': '{nope' }))).toThrow(UsageError);
    expect(() => outputPolicyFromOptions(parsed({ 'min-cell-count': 'ten' }))).toThrow(UsageError);
  });
});
