/** Reciprocity standing in words: what the caller shares in a field, what it has received, and which rules hold. */
import { call, query } from '../api.js';
import { field, h, input, run, select, Status, valueOf } from '../dom.js';
import type { Standing } from '../../../reciprocity/rule-view.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Render the standing page. */
export function standingPage(main: HTMLElement): void {
  const status = new Status();
  const out = h('div', { id: 'standing', 'aria-live': 'polite' });
  const form = h('form', { class: 'row', id: 'standing-form' }, field('Research field', input('field', { required: true })), field('Dataset kind', select('kind', [['insight', 'insight'], ['raw', 'raw']])), h('button', { type: 'submit' }, 'Show my standing'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const s = await run(form.querySelector('button'), status, 'Asking the service to evaluate the reciprocity rules for you…', () => call<Standing>('GET', `/v1/reciprocity/standing${query({ field: valueOf(form, 'field'), kind: valueOf(form, 'kind') })}`));
    if (!s) return;
    status.clear();
    out.replaceChildren(
      h('p', { class: `status ${s.mayAccess ? 'ok' : 'bad'}` }, s.mayAccess
        ? `In ${s.researchField} you meet every rule that applies: you may access others' data.`
        : `In ${s.researchField} you do not meet every rule yet: see what is missing below.`),
      h('p', { id: 'standing-needs' }, s.nextRelease?.needs ? `Your next release would be refused: ${s.nextRelease.needs}.` : 'Your next release would pass every rule that applies.'),
      h('p', {}, `You share ${plural(s.shared.length, 'dataset')} in ${s.researchField}${s.withheld.length ? ` and hold back ${s.withheld.length} (withdrawn or without an active offer)` : ''}. `,
        `You have received ${plural(s.releases.receivedFromOthers, 'release')} of others' data and others have received ${plural(s.releases.givenToOthers, 'release')} of yours.`),
      s.rules.length === 0 ? h('p', {}, 'No reciprocity rule applies in this field.') : h('ul', {}, ...s.rules.map((r) => h('li', {},
        h('strong', {}, `${r.kind} (${r.ruleId}): ${r.holds ? 'holds' : 'does not hold'}. `),
        r.holds ? r.evidence.join('; ') : `Missing: ${r.missing}`))));
  });
  main.append(h('h1', {}, 'Reciprocity standing'), h('p', {}, 'In a research field, sharing your own insight data is what gives you access to others\u2019.'), form, status.el, out);
}
