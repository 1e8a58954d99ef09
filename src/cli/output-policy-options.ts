/**
 * The output-policy options of `tds offer create` for compute offers:
 * `--output-policy` (JSON text or a file of it) plus one shorthand per
 * field. Kept apart from the compute commands so the catalog commands import
 * nothing of the data node.
 */
import fs from 'node:fs';
import { UsageError, stringOption, type ParsedCommand } from './cli-args.js';

function numberOption(p: ParsedCommand, name: string, min: number): number {
  const v = stringOption(p, name)!;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min) throw new UsageError(`${p.command}: --${name} must be a number ≥ ${min}`);
  return n;
}

/** The options `tds offer create` takes for a compute offer's output policy. */
export const OUTPUT_POLICY_OPTIONS = {
  'output-policy': { type: 'string' },
  'min-cell-count': { type: 'string' },
  'round-to': { type: 'string' },
  dominance: { type: 'string' },
  'p-ratio': { type: 'string' },
  'min-residual-df': { type: 'string' },
  'allow-extremes': { type: 'boolean' },
  'max-rows': { type: 'string' },
  'noise-epsilon': { type: 'string' },
  approvals: { type: 'string' },
  reviewers: { type: 'string' },
} as const;

/**
 * The outputPolicy an `offer create` command line asks for: `--output-policy`
 * (JSON text or a file of it) as the base, each shorthand option overriding
 * its field; undefined when none is given (the service fills the defaults).
 * The service validates the result against output-policy.v1.
 */
export function outputPolicyFromOptions(p: ParsedCommand): Record<string, unknown> | undefined {
  const base = stringOption(p, 'output-policy');
  let policy: Record<string, unknown> = {};
  if (base !== undefined) {
    const text = base.trim().startsWith('{') ? base : fs.existsSync(base) ? fs.readFileSync(base, 'utf8') : undefined;
    if (text === undefined) throw new UsageError(`${p.command}: --output-policy must be JSON or a file of it`);
    try {
      policy = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new UsageError(`${p.command}: --output-policy is not JSON`);
    }
  }
  const int = (name: string, field: string, min: number) => {
    if (stringOption(p, name) !== undefined) policy[field] = numberOption(p, name, min);
  };
  int('min-cell-count', 'minCellCount', 1);
  int('round-to', 'roundTo', 1);
  int('min-residual-df', 'minResidualDf', 1);
  int('max-rows', 'maxRows', 1);
  const dominance = stringOption(p, 'dominance');
  if (dominance !== undefined) {
    const m = /^(\d+):(0?\.\d+|1(?:\.0+)?)$/.exec(dominance);
    if (!m) throw new UsageError(`${p.command}: --dominance must be n:k, e.g. 2:0.9`);
    policy.dominance = { n: Number(m[1]), k: Number(m[2]) };
  }
  const pRatio = stringOption(p, 'p-ratio');
  if (pRatio !== undefined) {
    const n = Number(pRatio);
    if (!/^\d*\.?\d+$/.test(pRatio) || n > 1) throw new UsageError(`${p.command}: --p-ratio must be between 0 and 1`);
    policy.pRatio = n;
  }
  if (p.values['allow-extremes'] === true) policy.allowExtremes = true;
  const epsilon = stringOption(p, 'noise-epsilon');
  if (epsilon !== undefined) {
    const e = Number(epsilon);
    if (!/^\d*\.?\d+$/.test(epsilon) || !(e > 0)) throw new UsageError(`${p.command}: --noise-epsilon must be a positive number`);
    policy.noise = { mechanism: 'discrete-laplace', epsilon: e };
  }
  const approvals = stringOption(p, 'approvals');
  const reviewers = stringOption(p, 'reviewers');
  if (approvals !== undefined || reviewers !== undefined) {
    const review = { ...((policy.review as Record<string, unknown> | undefined) ?? {}) };
    if (approvals !== undefined) review.approvals = numberOption(p, 'approvals', 0);
    if (reviewers !== undefined) review.reviewers = reviewers.split(',').map((r) => r.trim()).filter(Boolean);
    policy.review = review;
  }
  return base === undefined && Object.keys(policy).length === 0 ? undefined : policy;
}
