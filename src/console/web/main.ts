/**
 * The console's shell: the key (load / forget) in the header, navigation by
 * role, and a hash router so moving between pages never reloads the page
 * (the key lives only in memory).
 */
import { h } from './dom.js';
import { loadConfig } from './api.js';
import * as session from './session.js';
import { homePage } from './pages/home.js';
import { catalogPage } from './pages/catalog.js';
import { datasetsPage } from './pages/datasets.js';
import { contractsPage } from './pages/contracts.js';
import { jobsPage } from './pages/jobs.js';
import { standingPage } from './pages/standing.js';
import { operatorPage } from './pages/operator.js';
import { ledgerPage } from './pages/ledger.js';
import { verifyFilePage } from './pages/verify-file.js';

/** A page: its title, who sees it in the navigation, and how it renders into main. */
interface Route {
  path: string;
  title: string;
  roles: string[] | 'all' | 'anyone';
  render: (main: HTMLElement, params: URLSearchParams) => void | Promise<void>;
}

const routes: Route[] = [
  { path: '/', title: 'Key', roles: 'anyone', render: homePage },
  { path: '/catalog', title: 'Catalog', roles: 'all', render: catalogPage },
  { path: '/datasets', title: 'My datasets and offers', roles: ['provider', 'consumer'], render: datasetsPage },
  { path: '/contracts', title: 'Contracts', roles: ['provider', 'consumer', 'operator', 'auditor'], render: contractsPage },
  { path: '/jobs', title: 'Jobs', roles: ['provider', 'consumer', 'reviewer'], render: jobsPage },
  { path: '/standing', title: 'Reciprocity standing', roles: ['provider', 'consumer'], render: standingPage },
  { path: '/operator', title: 'Participants and rules', roles: ['operator'], render: operatorPage },
  { path: '/ledger', title: 'Ledger', roles: ['auditor', 'operator'], render: ledgerPage },
  { path: '/verify-file', title: 'Verify a file', roles: 'anyone', render: verifyFilePage },
];

function visible(r: Route): boolean {
  if (r.roles === 'anyone') return true;
  if (!session.me()) return false;
  return r.roles === 'all' || r.roles.some((role) => session.hasRole(role));
}

function current(): { route: Route; params: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [p, q] = hash.split('?');
  const route = routes.find((r) => r.path === p) ?? routes[0]!;
  return { route, params: new URLSearchParams(q ?? '') };
}

function renderHeader(): void {
  const who = document.getElementById('who')!;
  const me = session.me();
  if (!me) {
    who.replaceChildren(h('p', {}, session.signer() ? 'Key loaded' : 'No key loaded'));
  } else {
    who.replaceChildren(
      h('p', { class: 'row' },
        h('span', {}, 'Signed in as ', h('strong', { id: 'me-name' }, me.name), ` (${me.roles.join(', ')}) `),
        h('button', { type: 'button', class: 'danger', id: 'forget-key', onclick: () => {
          session.forget();
          location.hash = '#/';
        } }, 'Forget key')));
  }
  const { route } = current();
  document.getElementById('nav')!.replaceChildren(h('ul', {}, ...routes.filter(visible).map((r) =>
    h('li', {}, h('a', { href: `#${r.path}`, 'aria-current': r === route ? 'page' : undefined }, r.title)))));
}

async function render(): Promise<void> {
  const { route, params } = current();
  renderHeader();
  const main = document.getElementById('main')!;
  main.replaceChildren();
  document.title = `${route.title} · tds console`;
  if (route.roles !== 'anyone' && !session.signer()) {
    main.append(h('h1', {}, route.title), h('p', { class: 'status' }, 'Load your key file first: ', h('a', { href: '#/' }, 'go to Key')));
    return;
  }
  await route.render(main, params);
}

session.onChange(() => {
  renderHeader();
});
window.addEventListener('hashchange', () => {
  void render().then(() => document.getElementById('main')?.focus());
});
void loadConfig().finally(() => render());
