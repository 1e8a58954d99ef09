/** The key page: load the key file (it stays in this page's memory), see who it belongs to. */
import { call } from '../api.js';
import { errorBox, field, h, Status } from '../dom.js';
import * as session from '../session.js';

/** Render the key page. */
export function homePage(main: HTMLElement): void {
  const status = new Status();
  const file = h('input', { type: 'file', name: 'keyfile', accept: '.json,application/json' });
  const me = session.me();
  main.append(
    h('h1', {}, 'Your key'),
    h('p', {}, 'Load the key file the tds command wrote for you (', h('code', {}, 'tds keygen'), ' then ', h('code', {}, 'tds register'),
      '). The key stays in this page: every request is signed here and the key is never sent to the service or stored. Reloading the page forgets it.'),
    me ? h('p', { class: 'status ok', id: 'key-status' }, `Key loaded for ${me.name} (${me.id}), roles: ${me.roles.join(', ')}, status ${me.status}.`) : '',
    h('form', { id: 'key-form', onsubmit: (e: Event) => e.preventDefault() }, field('Key file (JSON)', file, 'The file holds {id, kid, privateJwk}.')),
    status.el,
  );
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    status.wait('Checking the key file…');
    try {
      const signer = await session.parseKeyFile(await f.text());
      file.value = '';
      session.hold(signer);
      status.wait('Key checked; asking the service who this key belongs to…');
      const p = await call<{ id: string; name: string; status: string; roles: string[] }>('GET', `/v1/participants/${encodeURIComponent(signer.iss)}`);
      session.setMe({ id: p.id, name: p.name, status: p.status, roles: p.roles });
      const next = p.roles.includes('auditor') ? '#/ledger' : p.roles.includes('operator') ? '#/operator' : p.roles.includes('provider') ? '#/datasets' : '#/catalog';
      status.ok(h('span', { id: 'key-status' }, `Key loaded for ${p.name} (${p.id}), roles: ${p.roles.join(', ')}. `, h('a', { href: next }, 'Continue')));
    } catch (e) {
      status.el.replaceChildren(errorBox(e));
    }
  });
}
