/** The operator's page: participants waiting for approval (approve / suspend), everyone else, and the space-wide reciprocity rules. */
import { call, query, type Page } from '../api.js';
import { field, h, input, run, select, Status, table, valueOf, when } from '../dom.js';
import { pager } from '../pager.js';
import type { RuleView } from '../../../reciprocity/rule-view.js';

interface Participant { id: string; name: string; status: string; roles: string[]; organization?: string | null; createdAt?: string }
type Rule = RuleView;

/** Render the operator page. */
export async function operatorPage(main: HTMLElement): Promise<void> {
  const pending = h('section', { id: 'pending' });
  const all = h('section', { id: 'participants' });
  const rules = h('section', { id: 'rules' });
  main.append(h('h1', {}, 'Participants and rules'), pending, all, rules);
  const refresh = async () => {
    await listParticipants(pending, 'Waiting for approval', 'pending', refresh);
    await listParticipants(all, 'Active participants', 'active', refresh);
  };
  await refresh();
  await showRules(rules);
}

async function listParticipants(into: HTMLElement, heading: string, statusFilter: string, changed: () => Promise<void>): Promise<void> {
  const status = new Status();
  into.replaceChildren(h('h2', {}, heading), status.el);
  const page = await run(null, status, `Loading ${statusFilter} participants…`, () => call<Page<Participant>>('GET', `/v1/participants${query({ status: statusFilter, limit: 100 })}`));
  if (!page) return;
  status.clear();
  if (page.items.length === 0) {
    into.append(h('p', {}, statusFilter === 'pending' ? 'Nobody is waiting.' : 'None.'));
    return;
  }
  const act = (p: Participant, what: 'approve' | 'suspend') => async (e: Event) => {
    const r = await run(e.currentTarget as HTMLButtonElement, status, `${what === 'approve' ? 'Approving' : 'Suspending'} ${p.name}…`, () => call<{ status: string }>('POST', `/v1/participants/${encodeURIComponent(p.id)}/${what}`, {}));
    if (r) await changed();
  };
  into.append(table(heading, ['Name', 'Id', 'Roles', 'Organisation', 'Registered', ''], page.items.map((p) => [
    p.name, h('code', {}, p.id), p.roles.join(', '), p.organization ?? '—', when(p.createdAt),
    h('span', { class: 'row' },
      p.status !== 'active' ? h('button', { type: 'button', 'data-approve': p.id, onclick: act(p, 'approve') }, `Approve ${p.name}`) : null,
      p.status !== 'suspended' && !p.roles.includes('operator') ? h('button', { type: 'button', class: 'danger', onclick: act(p, 'suspend') }, `Suspend ${p.name}`) : null),
  ])));
}

function ruleText(r: Rule): string {
  switch (r.kind) {
    case 'minimum-contribution':
      return `share at least ${r.minCount ?? 1} ${r.datasetKind} dataset(s) in ${r.researchField}${r.minAgeDays ? `, each published ${r.minAgeDays} day(s) ago or more` : ''}, with an active offer`;
    case 'share-all':
      return `every ${r.datasetKind} dataset registered in ${r.researchField} must be shared`;
    case 'give-to-get':
      return `in ${r.researchField}, receive at most ${r.ratio ?? 1} × what others received from you, plus ${r.allowance ?? 0}`;
    default:
      return `unknown kind ${r.kind}: refuses`;
  }
}

async function showRules(into: HTMLElement): Promise<void> {
  const status = new Status();
  const list = h('div', {});
  const form = h('form', { id: 'rule-form' },
    field('Kind', select('kind', [['minimum-contribution', 'minimum contribution'], ['share-all', 'share all'], ['give-to-get', 'give to get']])),
    field('Research field', input('researchField', { required: true })),
    field('Dataset kind', select('datasetKind', [['insight', 'insight'], ['raw', 'raw']])),
    field('Minimum count (minimum contribution)', input('minCount', { type: 'number', min: 1 })),
    field('Minimum age in days (minimum contribution)', input('minAgeDays', { type: 'number', min: 0 })),
    field('Ratio (give to get)', input('ratio', { inputmode: 'decimal' })),
    field('Allowance (give to get)', input('allowance', { type: 'number', min: 0 })),
    h('button', { type: 'submit' }, 'Add the rule'));
  into.replaceChildren(h('h2', {}, 'Reciprocity rules'), status.el, list, h('h3', {}, 'New space-wide rule'), form);
  const load = () => pager<Rule>(list, 'Loading the rules…',
    (cursor) => call<Page<Rule>>('GET', `/v1/reciprocity-rules${query({ limit: 50, cursor })}`),
    (items) => (items.length === 0 ? h('p', {}, 'No rules.') : h('ul', {}, ...items.map((x) => h('li', {}, h('code', {}, x.id), ': ', ruleText(x))))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { kind: valueOf(form, 'kind'), researchField: valueOf(form, 'researchField'), datasetKind: valueOf(form, 'datasetKind') };
    for (const k of ['minCount', 'minAgeDays', 'ratio', 'allowance']) if (valueOf(form, k)) body[k] = Number(valueOf(form, k));
    const made = await run(form.querySelector('button'), status, 'Adding the rule…', () => call('POST', '/v1/reciprocity-rules', body));
    if (made) await load();
  });
  await load();
}
