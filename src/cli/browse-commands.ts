/**
 * The browse commands: `tds catalog`, `tds offers`, `tds contracts`, `tds jobs`
 * and `tds participants`. Each follows the API's pages (every page, or the
 * first `--limit N` items) and prints a table with names and titles beside the
 * ids, or with `--json` the API's page object `{items, nextCursor}` holding
 * every item fetched (nextCursor continues after them when --limit cut the list).
 */
import type { DatasetListItem, JobListItem, ListPage, TdsClient } from '../client/tds-client.js';
import type { ParticipantView } from '../participants/participant-view.js';
import type { OfferView } from '../agreements/offer-view.js';
import type { ContractSummary } from '../agreements/contract-view.js';
import { UsageError, choiceOption, stringOption, type CommandContext, type CommandSpec, type ParsedCommand } from './cli-args.js';
import { formatTable, type Column } from './table.js';

const CONTRACT_STATES = ['proposed', 'consumer_signed', 'active', 'exhausted', 'expired', 'revoked'] as const;
const JOB_STATES = ['authorized', 'completed', 'queued', 'running', 'held', 'rejected', 'failed'] as const;
const LIMIT = { limit: { type: 'string' } } as const;

/** `--limit N`: at most N items in all (undefined: every page). */
function limitOption(p: ParsedCommand): number | undefined {
  const v = stringOption(p, 'limit');
  if (v === undefined) return undefined;
  if (!/^[1-9]\d{0,6}$/.test(v)) throw new UsageError(`${p.command}: --limit must be a positive integer`);
  return Number(v);
}

/** A list printed as JSON (the API's page shape) or as a table, with a line for an empty list. */
function printList<T>(ctx: CommandContext, page: { items: T[]; nextCursor?: string | null }, columns: readonly Column<T>[], empty: string): void {
  if (ctx.settings.json) ctx.io.out(JSON.stringify(page, null, 2));
  else if (page.items.length === 0) ctx.io.out(empty);
  else {
    for (const line of formatTable(columns, page.items)) ctx.io.out(line);
    if (page.nextCursor) ctx.io.out(`(first ${page.items.length} shown; raise --limit for more)`);
  }
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '');
const minute = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : '');

/** Names of participants by id, looked up once each (a name the caller may not read stays its id). */
function nameResolver(client: TdsClient): (id: string) => Promise<string> {
  const names = new Map<string, Promise<string>>();
  return (id) => {
    let n = names.get(id);
    if (!n) {
      n = client.getParticipant(id).then((x) => x.name, () => id);
      names.set(id, n);
    }
    return n;
  };
}

/** `tds catalog`. */
export const catalogCommand: CommandSpec = {
  name: 'catalog',
  synopsis: '[--q TEXT] [--field F] [--kind raw|insight] [--provider ID] [--withdrawn] [--limit N]',
  summary: 'the dataset catalog, with each provider\'s name (published datasets; --withdrawn: withdrawn ones)',
  options: { q: { type: 'string' }, field: { type: 'string' }, kind: { type: 'string' }, provider: { type: 'string' }, withdrawn: { type: 'boolean' }, ...LIMIT },
  run: async (ctx) => {
    const { p } = ctx;
    const client = await ctx.client();
    const query = {
      q: stringOption(p, 'q'), researchField: stringOption(p, 'field'), kind: choiceOption(p, 'kind', ['raw', 'insight'] as const), provider: stringOption(p, 'provider'),
      status: p.values.withdrawn === true ? 'withdrawn' : 'published',
    };
    const page = await client.listAll<DatasetListItem>('/v1/datasets', query, limitOption(p));
    const nameOf = nameResolver(client);
    const names = new Map(await Promise.all(page.items.map(async (d) => [d.providerId, d.providerName ?? (await nameOf(d.providerId))] as const)));
    printList(ctx, page, [
      { header: 'dataset', cell: (d) => d.id },
      { header: 'title', cell: (d) => d.title, max: 40 },
      { header: 'field', cell: (d) => d.researchField, max: 24 },
      { header: 'kind', cell: (d) => d.kind },
      { header: 'provider', cell: (d) => names.get(d.providerId), max: 30 },
      { header: 'published', cell: (d) => day(d.publishedAt) },
    ], 'no datasets match');
    return 0;
  },
};

const price = (o: OfferView) => (o.price ? `${o.price.perInvocation} ${o.price.currency}` : 'free');

/** `tds offers DATASET_ID`. */
export const offersCommand: CommandSpec = {
  name: 'offers',
  synopsis: '<datasetId>',
  summary: 'a dataset and its offers: purposes, access, invocations, window, price',
  positionals: [1, 1],
  run: async (ctx) => {
    const client = await ctx.client();
    const datasetId = ctx.p.positionals[0]!;
    const page = await client.listOffers(datasetId);
    if (ctx.settings.json) {
      ctx.io.out(JSON.stringify(page, null, 2));
      return 0;
    }
    const dataset = await client.getDataset(datasetId);
    const provider = dataset.providerName ?? (await nameResolver(client)(dataset.providerId));
    ctx.io.out(`dataset ${dataset.id}: ${dataset.title} (${dataset.researchField}, ${dataset.kind}, ${dataset.status}) by ${provider}`);
    printList(ctx, page, [
      { header: 'offer', cell: (o) => o.id },
      { header: 'status', cell: (o) => o.status },
      { header: 'access', cell: (o) => o.access },
      { header: 'purposes', cell: (o) => o.purposes.join(','), max: 40 },
      { header: 'max', cell: (o) => o.maxInvocations, right: true },
      { header: 'from', cell: (o) => day(o.validFrom) },
      { header: 'until', cell: (o) => day(o.validUntil) },
      { header: 'price', cell: price },
    ], 'no offers on this dataset');
    return 0;
  },
};

/** The caller's contracts awaiting its signature: as provider those the consumer signed, as consumer those it proposed. */
async function contractsToSign(client: TdsClient, role: 'provider' | 'consumer' | undefined, limit: number | undefined): Promise<ListPage<ContractSummary>> {
  const me = client.credentials?.id;
  const roles = role ? [role] : me ? (await client.getParticipant(me)).roles : [];
  const sides: Array<{ role: 'provider' | 'consumer'; state: string }> = [];
  if (roles.includes('provider')) sides.push({ role: 'provider', state: 'consumer_signed' });
  if (roles.includes('consumer')) sides.push({ role: 'consumer', state: 'proposed' });
  const pages = await Promise.all(sides.map((s) => client.listAll<ContractSummary>('/v1/contracts', s, limit)));
  const items = pages.flatMap((pg) => pg.items).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return { items: limit === undefined ? items : items.slice(0, limit), nextCursor: null };
}

/** `tds contracts`. */
export const contractsCommand: CommandSpec = {
  name: 'contracts',
  synopsis: '[--to-sign] [--role provider|consumer] [--state S] [--limit N]',
  summary: 'your contracts with dataset titles and names; --to-sign: those awaiting your signature (operator, auditors: every contract)',
  options: { 'to-sign': { type: 'boolean' }, role: { type: 'string' }, state: { type: 'string' }, ...LIMIT },
  run: async (ctx) => {
    const { p } = ctx;
    const role = choiceOption(p, 'role', ['provider', 'consumer'] as const);
    const state = choiceOption(p, 'state', CONTRACT_STATES);
    const limit = limitOption(p);
    const toSign = p.values['to-sign'] === true;
    if (toSign && state) throw new UsageError('contracts: --to-sign picks the state itself; leave out --state');
    const client = await ctx.client();
    const page = toSign ? await contractsToSign(client, role, limit) : await client.listAll<ContractSummary>('/v1/contracts', { role, state }, limit);
    printList(ctx, page, [
      { header: 'contract', cell: (c) => c.id },
      { header: 'state', cell: (c) => c.state },
      { header: 'dataset', cell: (c) => c.datasetTitle, max: 32 },
      { header: 'provider', cell: (c) => c.provider.name, max: 24 },
      { header: 'consumer', cell: (c) => c.consumer.name, max: 24 },
      { header: 'used', cell: (c) => `${c.invocationsUsed}/${c.maxInvocations}`, right: true },
      { header: 'until', cell: (c) => day(c.validUntil) },
    ], toSign ? 'nothing awaits your signature' : 'no contracts');
    if (toSign && !ctx.settings.json && page.items.length > 0) ctx.io.out('sign with: tds contract sign <contract> (it shows the terms first)');
    return 0;
  },
};

/** `tds jobs`. */
export const jobsCommand: CommandSpec = {
  name: 'jobs',
  synopsis: '[--role consumer|provider|reviewer] [--state S] [--contract ID] [--limit N]',
  summary: 'your jobs with dataset titles and the parties\' names (default role: consumer, else provider, else reviewer)',
  options: { role: { type: 'string' }, state: { type: 'string' }, contract: { type: 'string' }, ...LIMIT },
  run: async (ctx) => {
    const { p } = ctx;
    const query = { role: choiceOption(p, 'role', ['consumer', 'provider', 'reviewer'] as const), state: choiceOption(p, 'state', JOB_STATES), contractId: stringOption(p, 'contract') };
    const limit = limitOption(p);
    const page = await (await ctx.client()).listAll<JobListItem>('/v1/jobs', query, limit);
    printList(ctx, page, [
      { header: 'job', cell: (j) => j.id },
      { header: 'state', cell: (j) => j.state },
      { header: 'access', cell: (j) => j.access },
      { header: 'dataset', cell: (j) => j.datasetTitle ?? j.datasetId, max: 32 },
      { header: 'provider', cell: (j) => j.provider?.name ?? j.providerId, max: 24 },
      { header: 'consumer', cell: (j) => j.consumer?.name ?? j.consumerId, max: 24 },
      { header: 'purpose', cell: (j) => j.purpose },
      { header: 'created', cell: (j) => minute(j.createdAt) },
      { header: 'reason', cell: (j) => j.reason },
    ], 'no jobs');
    return 0;
  },
};

/** `tds participants`. */
export const participantsCommand: CommandSpec = {
  name: 'participants',
  synopsis: '[--pending] [--role R] [--status pending|active|suspended] [--limit N]',
  summary: 'the directory; --pending: registrations waiting for approval (the operator sees them; others see none)',
  options: { pending: { type: 'boolean' }, role: { type: 'string' }, status: { type: 'string' }, ...LIMIT },
  run: async (ctx) => {
    const { p } = ctx;
    let status = choiceOption(p, 'status', ['pending', 'active', 'suspended'] as const);
    if (p.values.pending === true) {
      if (status && status !== 'pending') throw new UsageError('participants: --pending and --status disagree');
      status = 'pending';
    }
    const role = choiceOption(p, 'role', ['operator', 'provider', 'consumer', 'auditor', 'reviewer'] as const);
    const page = await (await ctx.client()).listAll<ParticipantView>('/v1/participants', { role, status }, limitOption(p));
    printList(ctx, page, [
      { header: 'participant', cell: (x) => x.id },
      { header: 'name', cell: (x) => x.name, max: 32 },
      { header: 'roles', cell: (x) => x.roles.join(',') },
      { header: 'status', cell: (x) => x.status },
      { header: 'organization', cell: (x) => x.organization, max: 32 },
      { header: 'registered', cell: (x) => day(x.createdAt) },
    ], status === 'pending' ? 'no pending registrations (only the operator sees them)' : 'no participants match');
    if (status === 'pending' && !ctx.settings.json && page.items.length > 0) ctx.io.out('approve with: tds approve <participant>');
    return 0;
  },
};
