/**
 * The only way the view builds DOM. Log text is untrusted: it goes in as text nodes after
 * `inert()`, never through innerHTML, and never into an attribute that a browser acts on
 * (href, src, on*, style). The page's CSP also enforces Trusted Types, so an innerHTML
 * assignment from a string would throw instead of parsing.
 */
import { inert } from './inert.js';

type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  /** data-* attributes (plain values, for tests and styling). */
  data?: Record<string, string | number>;
  /** Safe attributes only: a fixed list, checked at run time too. */
  attrs?: Record<string, string>;
  title?: string;
}

const SAFE_ATTRS = new Set(['role', 'type', 'aria-label', 'aria-pressed', 'aria-current', 'aria-live', 'aria-describedby', 'tabindex', 'dir', 'id', 'for', 'name', 'autocomplete', 'placeholder', 'value', 'hidden', 'datetime']);

/** Creates an element; string children become text nodes, run through inert(). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class !== undefined) el.className = props.class;
  if (props.title !== undefined) el.title = inert(props.title);
  for (const [k, v] of Object.entries(props.data ?? {})) el.dataset[k] = String(v);
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (!SAFE_ATTRS.has(k)) throw new Error(`attribute ${k} is not allowed`);
    el.setAttribute(k, inert(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(inert(c)) : c);
  }
  return el;
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'string' ? document.createTextNode(inert(c)) : c)));
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el as T;
}
