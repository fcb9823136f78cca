// Client-side navigation over the History API. Same-origin <a href> clicks
// anywhere (inside shadow roots too: composedPath) become pushState, so
// pages link with plain anchors and every view keeps a real URL that can be
// bookmarked, opened in a new tab or reloaded (the server answers every
// page path with index.html).
import { matchRoute, type Route } from './routes.js';

export type RouteListener = (route: Route) => void;

export class Router {
  #listeners = new Set<RouteListener>();
  #current: Route = matchRoute(location.pathname, location.search);

  constructor() {
    window.addEventListener('popstate', () => this.#emit());
    document.addEventListener('click', (ev) => this.#onClick(ev));
  }

  get current(): Route {
    return this.#current;
  }

  subscribe(fn: RouteListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Goes to `href` (path + query). `replace` keeps history clean for filter changes and redirects. */
  navigate(href: string, opts: { replace?: boolean } = {}): void {
    const url = new URL(href, location.origin);
    if (url.pathname + url.search === location.pathname + location.search) return;
    if (opts.replace === true) history.replaceState(null, '', url.pathname + url.search);
    else history.pushState(null, '', url.pathname + url.search);
    this.#emit();
  }

  #emit(): void {
    this.#current = matchRoute(location.pathname, location.search);
    for (const fn of this.#listeners) fn(this.#current);
  }

  #onClick(ev: MouseEvent): void {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const anchor = ev.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (anchor === undefined || anchor.target !== '' || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    // API and export links are real downloads, not pages.
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    ev.preventDefault();
    this.navigate(url.pathname + url.search);
  }
}

export const router = new Router();
