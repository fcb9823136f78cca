// HTTP log explorer: the enriched requests (http_logs) filtered by any of
// the API's fields, newest first, paginated. Filters live in the URL, so
// other pages link here with a filter already set (?ja4=, ?ip=, ?asn=...).
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { PageElement } from './page-base.js';
import { renderLogTable } from '../components/log-table.js';
import type { LogsQuery, LogsResponse } from '../../../src/dashboard/api-types.js';

const PAGE_SIZE = 50;

/** the filter fields, their labels and input hints (LogsQuery) */
const FIELDS: readonly { key: keyof LogsQuery; label: string; hint?: string; size?: number }[] = [
  { key: 'ip', label: 'Client IP' },
  { key: 'ja4', label: 'JA4', size: 20 },
  { key: 'ja4h', label: 'JA4H', size: 20 },
  { key: 'host', label: 'Host' },
  { key: 'path', label: 'Path prefix', hint: '/admin' },
  { key: 'method', label: 'Method', size: 6 },
  { key: 'status', label: 'Status', hint: '404 or 4xx', size: 6 },
  { key: 'user_agent', label: 'User agent contains' },
  { key: 'country', label: 'Country', size: 4 },
  { key: 'asn', label: 'ASN', size: 8 },
];

@customElement('ja4-logs-page')
export class Ja4LogsPage extends PageElement {
  @state() private page: LogsResponse | undefined;

  protected async load(signal: AbortSignal): Promise<void> {
    const filters = Object.fromEntries(FIELDS.map((f) => [f.key, this.param(f.key) || undefined]));
    this.page = await api.get<LogsResponse>('/api/logs', { ...this.range(), ...filters, limit: PAGE_SIZE, offset: this.offsetParam() }, signal);
  }

  #apply(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const patch: Record<string, string | undefined> = { offset: undefined };
    for (const f of FIELDS) patch[f.key] = String(data.get(f.key) ?? '').trim() || undefined;
    this.setQuery(patch);
  }

  #clear(): void {
    this.setQuery(Object.fromEntries([...FIELDS.map((f) => [f.key, undefined]), ['offset', undefined]]));
  }

  override render() {
    return html`<h1>HTTP logs</h1>
      <form class="toolbar" @submit=${(e: SubmitEvent) => this.#apply(e)} aria-label="filters">
        ${this.renderRangePicker()}
        ${FIELDS.map(
          (f) => html`<label>${f.label} <input name=${f.key} .value=${this.param(f.key)} placeholder=${f.hint ?? ''} size=${f.size ?? 14} /></label>`,
        )}
        <button type="submit" class="primary">Apply</button>
        <button type="button" @click=${() => this.#clear()}>Clear</button>
      </form>
      ${this.renderStatus()} ${renderLogTable(this.page?.items ?? [])}
      ${this.renderPager(this.page, PAGE_SIZE)}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-logs-page': Ja4LogsPage;
  }
}
