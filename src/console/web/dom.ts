/**
 * A tiny DOM builder and the page's shared widgets (fields with labels, status
 * lines, error boxes showing the problem's detail). Plain DOM, no framework:
 * nothing is parsed from strings, so no inline code can ever reach the page.
 */
import { ApiError } from './api.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

/** Create an element with attributes (on* keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

let idCounter = 0;
/** A unique id for label/for pairs. */
export function uid(prefix = 'f'): string {
  return `${prefix}-${++idCounter}`;
}

/** A labelled form control: the label names the control, `hint` is read out with it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLDivElement {
  control.id ||= uid();
  const hintEl = hint ? h('small', { id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** A text input. */
export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { type: 'text', name, ...attrs });
}

/** A select with (value, text) options. */
export function select(name: string, options: Array<[string, string]>, attrs: Attrs = {}): HTMLSelectElement {
  return h('select', { name, ...attrs }, ...options.map(([v, t]) => h('option', { value: v }, t)));
}

/** A status region: say what is happening, what succeeded, or what failed (with the problem's detail). */
export class Status {
  readonly el = h('div', { role: 'status', 'aria-live': 'polite' });

  /** Say what is being waited for (never a bare spinner). */
  wait(text: string): void {
    this.set('wait', text);
  }

  ok(text: string | Node): void {
    this.set('ok', text);
  }

  info(text: string | Node): void {
    this.set('', text);
  }

  clear(): void {
    this.el.replaceChildren();
  }

  /** Show an error: for API problems the code and the detail, with the HTTP status. */
  error(e: unknown): void {
    this.el.replaceChildren(errorBox(e));
  }

  private set(kind: string, text: string | Node): void {
    this.el.replaceChildren(h('p', { class: `status ${kind}` }, text));
  }
}

/** The box an error is shown in: problem code, detail and status for API errors, the message otherwise. */
export function errorBox(e: unknown): HTMLElement {
  if (e instanceof ApiError) {
    return h('div', { class: 'status bad', role: 'alert' },
      h('p', {}, h('strong', {}, `${e.title || 'Refused'} (${e.code}, HTTP ${e.status})`)),
      h('p', { class: 'detail' }, e.detail),
      e.hint ? h('p', {}, e.hint) : null);
  }
  return h('div', { class: 'status bad', role: 'alert' }, h('p', { class: 'detail' }, e instanceof Error ? e.message : String(e)));
}

/** Run an async action from a button: disable it, say what is awaited, show the result or the error. */
export async function run<T>(button: HTMLButtonElement | null, status: Status, waiting: string, action: () => Promise<T>): Promise<T | undefined> {
  if (button) button.disabled = true;
  status.wait(waiting);
  try {
    return await action();
  } catch (e) {
    status.error(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/**
 * A table from headers and rows of cells. Each cell carries its column's
 * header as `data-label`, so a narrow screen can show the rows as stacked
 * label/value lines (console.css) instead of a table wider than the screen.
 */
export function table(caption: string, headers: string[], rows: Array<Array<Child | Child[]>>): HTMLTableElement {
  return h('table', { class: 'stack' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { 'data-label': headers[i] || undefined }, ...(Array.isArray(c) ? c : [c])))))));
}

/** A date/time for people (the ISO value stays in the title). */
export function when(iso: string | null | undefined): HTMLElement | string {
  if (!iso) return '—';
  const d = new Date(iso);
  return h('time', { datetime: iso, title: iso }, d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC');
}

/** Value of a named control in a form. */
export function valueOf(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name) as HTMLInputElement | null;
  return el?.value.trim() ?? '';
}
