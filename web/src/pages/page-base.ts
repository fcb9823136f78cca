// What every data page shares: the route it shows (params and query, so
// filters live in the URL and survive a reload or a shared link), a load
// cycle that cancels the previous request when the route changes, the time
// window picked in the URL (?hours=), and an error line instead of a blank
// page when the API refuses.
import { LitElement, html, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiRequestError, api, enc } from '../api/client.js';
import { RANGES } from '../format.js';
import type { Route } from '../router/routes.js';
import { pagePatch, windowRange } from '../router/time-window.js';
import { router } from '../router/router.js';
import { pageStyles } from '../components/shared-styles.js';
import type { Classification, Page, Role } from '../../../src/dashboard/api-types.js';

const ROLE_RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

export function roleAtLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && ROLE_RANK[role] >= ROLE_RANK[min];
}

export function errorText(err: unknown): string {
  if (err instanceof ApiRequestError) return err.field ? `${err.message} (${err.field})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export abstract class PageElement extends LitElement {
  static override styles = [pageStyles];

  @property({ attribute: false }) route!: Route;
  @state() protected error = '';
  @state() protected loading = false;
  #abort: AbortController | undefined;

  /** Fetches what the page shows; `signal` aborts when the route changes. */
  protected abstract load(signal: AbortSignal): Promise<void>;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('route') && this.route !== undefined) void this.reload();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abort?.abort();
  }

  protected async reload(): Promise<void> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.loading = true;
    this.error = '';
    try {
      await this.load(abort.signal);
    } catch (err) {
      if (!abort.signal.aborted && (err as Error).name !== 'AbortError') this.error = errorText(err);
    } finally {
      if (this.#abort === abort) this.loading = false;
    }
  }

  /**
   * Runs a page's requests side by side. What succeeds is returned (the
   * rest undefined) so one failing section does not blank the page; the
   * failures are reported together in the error line.
   */
  protected async gather<T extends Record<string, Promise<unknown>>>(requests: T, signal: AbortSignal): Promise<{ [K in keyof T]: Awaited<T[K]> | undefined }> {
    const keys = Object.keys(requests) as (keyof T)[];
    const settled = await Promise.allSettled(keys.map((k) => requests[k]));
    if (signal.aborted) throw new DOMException('route changed', 'AbortError');
    const out = {} as { [K in keyof T]: Awaited<T[K]> | undefined };
    const failures: string[] = [];
    settled.forEach((r, i) => {
      const key = keys[i]!;
      if (r.status === 'fulfilled') out[key] = r.value as Awaited<T[typeof key]>;
      else failures.push(`${String(key)}: ${errorText(r.reason)}`);
    });
    if (failures.length > 0) this.error = `Some sections could not be loaded. ${failures.join('; ')}`;
    return out;
  }

  protected get userRole(): Role | undefined {
    return api.session?.user.role;
  }

  /** the window in hours from ?hours=, one of the pickers' values (24 by default) */
  protected get hours(): number {
    const h = Number(this.route.query.get('hours'));
    return RANGES.some((r) => r.hours === h) ? h : 24;
  }

  /** from/to for the API, ending now (at ?until= while a list is past its first page: time-window.ts) */
  protected range(): { from: string; to: string } {
    return windowRange(this.route.query, this.hours, Date.now());
  }

  protected param(name: string): string {
    return this.route.query.get(name) ?? '';
  }

  /** Changes query values in the URL (undefined or '' removes one); the page reloads from the new route. */
  protected setQuery(patch: Record<string, string | number | undefined>): void {
    const q = new URLSearchParams(this.route.query);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === '') q.delete(k);
      else q.set(k, String(v));
    }
    const s = q.toString();
    router.navigate(s ? `${this.route.path}?${s}` : this.route.path, { replace: true });
  }

  /** a paged list's offset from ?<name>= (a positive integer, else 0), so the page survives a reload */
  protected offsetParam(name = 'offset'): number {
    const o = Number(this.param(name));
    return Number.isInteger(o) && o > 0 ? o : 0;
  }

  /** <ja4-pager> over a list paged by ?<name>=; turning a page rewrites that query value */
  protected renderPager(page: Pick<Page<unknown>, 'total' | 'has_more'> | undefined, pageSize: number, name = 'offset') {
    return html`<ja4-pager
      .page=${Math.floor(this.offsetParam(name) / pageSize)}
      page-size=${pageSize}
      .total=${page?.total ?? undefined}
      ?has-more=${page?.has_more ?? false}
      @ja4-page=${(e: CustomEvent<number>) => this.setQuery(pagePatch(this.route.query, name, e.detail * pageSize, Date.now()))}
    ></ja4-pager>`;
  }

  protected renderRangePicker() {
    return html`<label
      >Window
      <select aria-label="time window" @change=${(e: Event) => this.setQuery({ hours: (e.target as HTMLSelectElement).value, offset: undefined })}>
        ${RANGES.map((r) => html`<option value=${r.hours} ?selected=${r.hours === this.hours}>${r.label}</option>`)}
      </select></label
    >`;
  }

  /**
   * The head of a one-subject page (an IP, a JA4): its name and verdict, the
   * classify button for analysts, the window picker, links to its detections
   * and HTTP logs (filtered by ?<type>=), then the status line.
   */
  protected renderSubjectHead(type: 'ip' | 'ja4', title: string, subject: string, cls: Classification | null | undefined) {
    return html`<h1>
        ${title} <code>${subject}</code>
        ${cls ? html`<ja4-threat level=${cls.label} title=${`by ${cls.actor}: ${cls.note}`}></ja4-threat>` : ''}
        ${roleAtLeast(this.userRole, 'analyst') ? html`<ja4-classify subject-type=${type} subject=${subject} @ja4-classified=${() => this.reload()}></ja4-classify>` : ''}
      </h1>
      <div class="toolbar">${this.renderRangePicker()} <a href=${`/detections?${type}=${enc(subject)}`}>Its detections</a> <a href=${`/logs?${type}=${enc(subject)}`}>Its HTTP logs</a></div>
      ${this.renderStatus()}`;
  }

  protected renderStatus() {
    return html`${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}${this.loading
        ? html`<p class="muted" aria-live="polite">Loading…</p>`
        : ''}`;
  }
}
