/**
 * `tds dataset withdraw`, `tds contract revoke`, `tds rule create` and
 * `tds rule list`: the actions a provider or the operator takes on what it
 * owns. Each prints what happened in words (and what it means for others),
 * or the service's answer with `--json`.
 */
import type { RuleInput, RuleView, TdsClient } from '../client/tds-client.js';
import { UsageError, choiceOption, requireOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from './cli-args.js';

/** Rows as aligned columns, a header first (people's output). */
export function tableLines(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}

/** `tds dataset withdraw <id>`. */
export async function withdrawCommand(client: TdsClient, datasetId: string, json: boolean, io: CliIo): Promise<number> {
  const d = await client.withdrawDataset(datasetId);
  if (json) {
    io.out(JSON.stringify(d, null, 2));
    return 0;
  }
  io.out(`dataset ${d.id} (${d.title}): ${d.status}`);
  io.out('no new offers, contracts or releases; gateways refuse release tokens already issued for it');
  return 0;
}

/** `tds contract revoke <id> [--reason TEXT]`. */
export async function revokeCommand(client: TdsClient, contractId: string, reason: string, json: boolean, io: CliIo): Promise<number> {
  const c = await client.revokeContract(contractId, reason);
  if (json) {
    io.out(JSON.stringify(c, null, 2));
    return 0;
  }
  io.out(`contract ${c.id}: ${c.state}`);
  io.out(`reason: ${c.revokeReason ?? reason}`);
  io.out('no further jobs; gateways refuse release tokens already issued under it');
  return 0;
}

/** A rule's parameters in words ("minCount 2, minAgeDays 30"). */
function ruleParameters(r: RuleView): string {
  const parts: string[] = [];
  if (r.minCount !== undefined) parts.push(`minCount ${r.minCount}`);
  if (r.minAgeDays !== undefined) parts.push(`minAgeDays ${r.minAgeDays}`);
  if (r.ratio !== undefined) parts.push(`ratio ${r.ratio}`);
  if (r.allowance !== undefined) parts.push(`allowance ${r.allowance}`);
  return parts.join(', ') || '-';
}

/** The rule body from the command line; the service's schema checks which parameters a kind takes. */
function ruleFromOptions(p: ParsedCommand): RuleInput {
  const kind = choiceOption(p, 'kind', ['minimum-contribution', 'share-all', 'give-to-get'] as const);
  if (!kind) throw new UsageError(`${p.command}: --kind is required (minimum-contribution, share-all or give-to-get)`);
  const datasetKind = choiceOption(p, 'dataset-kind', ['raw', 'insight'] as const) ?? 'insight';
  const int = (name: string): number | undefined => {
    const v = stringOption(p, name);
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${p.command}: --${name} must be a whole number`);
    return Number(v);
  };
  const ratioText = stringOption(p, 'ratio');
  if (ratioText !== undefined && !/^\d+(\.\d+)?$/.test(ratioText)) throw new UsageError(`${p.command}: --ratio must be a number such as 1 or 0.5`);
  const description = stringOption(p, 'description');
  const rule: RuleInput = { kind, researchField: requireOption(p, 'field'), datasetKind };
  const minCount = int('min-count');
  const minAgeDays = int('min-age-days');
  const allowance = int('allowance');
  if (minCount !== undefined) rule.minCount = minCount;
  if (minAgeDays !== undefined) rule.minAgeDays = minAgeDays;
  if (ratioText !== undefined) rule.ratio = Number(ratioText);
  if (allowance !== undefined) rule.allowance = allowance;
  if (description !== undefined) rule.description = description;
  return rule;
}

/** `tds rule create`. */
export async function ruleCreateCommand(client: TdsClient, rule: RuleInput, json: boolean, io: CliIo): Promise<number> {
  const r = await client.createRule(rule);
  if (json) {
    io.out(JSON.stringify(r, null, 2));
    return 0;
  }
  io.out(`rule: ${r.id}`);
  io.out(`${r.kind} on ${r.datasetKind} data in ${r.researchField} (${ruleParameters(r)})`);
  io.out(r.scope === 'space'
    ? `scope: space-wide: applies to every ${r.datasetKind} dataset in ${r.researchField}, at proposal and at every release`
    : `scope: offer: applies only to offers that name it (tds offer create ... --rules ${r.id})`);
  return 0;
}

/** `tds rule list`. */
export async function ruleListCommand(client: TdsClient, q: { researchField?: string; scope?: 'space' | 'offer' }, json: boolean, io: CliIo): Promise<number> {
  const { items } = await client.listRules(q);
  if (json) {
    io.out(JSON.stringify(items, null, 2));
    return 0;
  }
  if (items.length === 0) {
    io.out('no reciprocity rules');
    return 0;
  }
  for (const line of tableLines(['ID', 'SCOPE', 'KIND', 'FIELD', 'DATASETS', 'PARAMETERS', 'CREATED BY'], items.map((r) => [r.id, r.scope, r.kind, r.researchField, r.datasetKind, ruleParameters(r), r.createdBy]))) io.out(line);
  return 0;
}

/** `tds dataset withdraw`. */
export const datasetWithdraw: CommandSpec = {
  name: 'dataset withdraw',
  synopsis: '<datasetId>',
  summary: 'provider: withdraw your dataset (stops every further release at once)',
  positionals: [1, 1],
  run: async ({ p, io, settings, client }) => withdrawCommand(await client(), p.positionals[0]!, settings.json, io),
};

/** `tds contract revoke`. */
export const contractRevoke: CommandSpec = {
  name: 'contract revoke',
  synopsis: '<contractId> [--reason TEXT]',
  summary: 'provider or operator: revoke a contract at once',
  options: { reason: { type: 'string' } },
  positionals: [1, 1],
  run: async ({ p, io, settings, client }) => {
    const reason = stringOption(p, 'reason') ?? 'revoked with tds contract revoke (no reason given)';
    if (!/\S/.test(reason)) throw new UsageError('contract revoke: --reason must not be blank');
    return revokeCommand(await client(), p.positionals[0]!, reason, settings.json, io);
  },
};

/** `tds rule create`. */
export const ruleCreate: CommandSpec = {
  name: 'rule create',
  synopsis: '--kind minimum-contribution|share-all|give-to-get --field F [--dataset-kind raw|insight] [--min-count N] [--min-age-days N] [--ratio X] [--allowance N] [--description D]',
  summary: 'operator: a space-wide reciprocity rule; provider: a rule for your offers (--dataset-kind defaults to insight)',
  options: {
    kind: { type: 'string' }, field: { type: 'string' }, 'dataset-kind': { type: 'string' }, 'min-count': { type: 'string' }, 'min-age-days': { type: 'string' },
    ratio: { type: 'string' }, allowance: { type: 'string' }, description: { type: 'string' },
  },
  run: async ({ p, io, settings, client }) => ruleCreateCommand(await client(), ruleFromOptions(p), settings.json, io),
};

/** `tds rule list`. */
export const ruleList: CommandSpec = {
  name: 'rule list',
  synopsis: '[--field F] [--scope space|offer]',
  summary: 'the reciprocity rules of the space',
  options: { field: { type: 'string' }, scope: { type: 'string' } },
  run: async ({ p, io, settings, client }) => {
    const scope = choiceOption(p, 'scope', ['space', 'offer'] as const);
    const field = stringOption(p, 'field');
    return ruleListCommand(await client(), { ...(field ? { researchField: field } : {}), ...(scope ? { scope } : {}) }, settings.json, io);
  },
};
