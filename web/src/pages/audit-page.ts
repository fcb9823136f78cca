// Audit trail: every mutation (classification, user change, login) with
// who, what, when and the state before and after, newest first, filtered
// by actor, action or subject.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { fmtTime } from '../format.js';
import { links } from '../router/routes.js';
import { PageElement } from './page-base.js';
import type { AuditEntry, AuditResponse } from '../../../src/dashboard/api-types.js';

const PAGE_SIZE = 50;
const FILTERS = ['actor', 'action', 'subject'] as const;

/** the before/after JSON, compact */
function state_(json: string) {
  if (!json) return html`<span class="muted">–</span>`;
  try {
    const v = JSON.parse(json) as unknown;
    if (v === null) return html`<span class="muted">none</span>`;
    if (typeof v === 'object') {
      return html`<ul class="plain">
        ${Object.entries(v as Record<string, unknown>).map(([k, x]) => html`<li><span class="muted">${k}:</span> ${typeof x === 'string' ? x : JSON.stringify(x)}</li>`)}
      </ul>`;
    }
    return html`<code>${JSON.stringify(v)}</code>`;
  } catch {
    return html`<code>${json}</code>`;
  }
}

function subjectLink(e: AuditEntry) {
  if (e.subject_type === 'ip') return html`<a href=${links.ip(e.subject)}>${e.subject}</a>`;
  if (e.subject_type === 'ja4') return html`<a href=${links.ja4(e.subject)}><code>${e.subject}</code></a>`;
  if (e.subject_type === 'campaign') return html`<a href=${links.cluster(e.subject)}>${e.subject}</a>`;
  return e.subject;
}

@customElement('ja4-audit-page')
export class Ja4AuditPage extends PageElement {
  @state() private page: AuditResponse | undefined;

  protected async load(signal: AbortSignal): Promise<void> {
    const filters = Object.fromEntries(FILTERS.map((f) => [f, this.param(f) || undefined]));
    this.page = await api.get<AuditResponse>('/api/audit', { ...this.range(), ...filters, limit: PAGE_SIZE, offset: this.offsetParam() }, signal);
  }

  #apply(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const patch: Record<string, string | undefined> = { offset: undefined };
    for (const f of FILTERS) patch[f] = String(data.get(f) ?? '').trim() || undefined;
    this.setQuery(patch);
  }

  override render() {
    return html`<h1>Audit trail</h1>
      <form class="toolbar" @submit=${(e: SubmitEvent) => this.#apply(e)} aria-label="filters">
        ${this.renderRangePicker()} ${FILTERS.map((f) => html`<label>${f} <input name=${f} .value=${this.param(f)} /></label>`)}
        <button type="submit" class="primary">Apply</button>
      </form>
      ${this.renderStatus()}
      <ja4-table
        id="audit"
        caption="Audit entries, newest first"
        .rows=${this.page?.items ?? []}
        .columns=${[
          { key: 'ts', label: 'When (UTC)', render: (e: AuditEntry) => fmtTime(e.ts) },
          { key: 'actor', label: 'Who', render: (e: AuditEntry) => `${e.actor} (${e.role})` },
          { key: 'action', label: 'Action' },
          { key: 'subject_type', label: 'Subject type' },
          { key: 'subject', label: 'Subject', render: subjectLink },
          { key: 'before', label: 'Before', render: (e: AuditEntry) => state_(e.before) },
          { key: 'after', label: 'After', render: (e: AuditEntry) => state_(e.after) },
          { key: 'note', label: 'Note' },
          { key: 'client_ip', label: 'From' },
        ]}
      ></ja4-table>
      ${this.renderPager(this.page, PAGE_SIZE)}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-audit-page': Ja4AuditPage;
  }
}
