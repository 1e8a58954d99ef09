/**
 * Keyset paging for the API's lists (`{items, nextCursor}`): shows one page,
 * a "Next page" button while the service gives a cursor, and "Previous page"
 * from the cursors already walked (the API pages forward only).
 */
import type { Page } from './api.js';
import { h, Status } from './dom.js';

/**
 * Render pages of a list into `into`: `fetchPage(cursor)` loads one page,
 * `render(items)` turns it into nodes. `waiting` says what is being loaded.
 * Resolves once the first page is shown.
 */
export async function pager<T>(
  into: HTMLElement,
  waiting: string,
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  render: (items: T[]) => Node | Promise<Node>,
): Promise<void> {
  const status = new Status();
  const body = h('div', {});
  const nav = h('p', { class: 'row pager' });
  into.replaceChildren(status.el, body, nav);
  // cursors[i] is the cursor that loads page i (undefined for the first).
  const cursors: Array<string | undefined> = [undefined];
  const show = async (i: number): Promise<void> => {
    status.wait(i === 0 ? waiting : `${waiting} (page ${i + 1})`);
    let page: Page<T>;
    try {
      page = await fetchPage(cursors[i]);
    } catch (e) {
      status.error(e);
      return;
    }
    cursors.length = i + 1;
    if (page.nextCursor) cursors.push(page.nextCursor);
    body.replaceChildren(await render(page.items));
    status.info(`Page ${i + 1}: ${page.items.length} shown${page.nextCursor ? ', more on the next page' : ''}.`);
    nav.replaceChildren(...[
      i > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => void show(i - 1) }, 'Previous page') : null,
      page.nextCursor ? h('button', { type: 'button', class: 'secondary', onclick: () => void show(i + 1) }, 'Next page') : null,
    ].filter((b): b is HTMLButtonElement => b !== null));
  };
  await show(0);
}
