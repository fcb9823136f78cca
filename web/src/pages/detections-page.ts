// Detections: the detector's findings, filtered (threat level, JA4, IP,
// host, campaign, minimum score), sorted and paginated by the server, with
// the same filters exported as CSV. Every filter lives in the URL.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, apiUrl } from '../api/client.js';
import { fmtInt, fmtScore, fmtTime } from '../format.js';
import { links } from '../router/routes.js';
import { PageElement } from './page-base.js';
import type { SortChange } from '../components/data-table.js';
import { DETECTION_SORTS, THREAT_LEVELS, type Detection, type DetectionSort, type DetectionsResponse } from '../../../src/dashboard/api-types.js';

const PAGE_SIZE = 50;
const FILTERS = ['ja4', 'ip', 'host', 'campaign'] as const;

@customElement('ja4-detections-page')
export class Ja4DetectionsPage extends PageElement {
  @state() private page: DetectionsResponse | undefined;

  #query(): Record<string, string | number | undefined> {
    const sort = this.param('sort');
    return {
      ...this.range(),
      level: this.param('level') || undefined,
      ja4: this.param('ja4') || undefined,
      ip: this.param('ip') || undefined,
      host: this.param('host') || undefined,
      campaign: this.param('campaign') || undefined,
      min_score: this.param('min_score') || undefined,
      sort: DETECTION_SORTS.includes(sort as DetectionSort) ? sort : 'detected_at',
      order: this.param('order') === 'asc' ? 'asc' : 'desc',
    };
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.page = await api.get<DetectionsResponse>('/api/detections', { ...this.#query(), limit: PAGE_SIZE, offset: this.offsetParam() }, signal);
  }

  #applyFilters(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const patch: Record<string, string | undefined> = { offset: undefined };
    for (const k of [...FILTERS, 'level', 'min_score']) patch[k] = String(data.get(k) ?? '').trim() || undefined;
    this.setQuery(patch);
  }

  override render() {
    const q = this.#query();
    const rows = this.page?.items ?? [];
    const sort: SortChange = { key: String(q.sort), dir: q.order === 'asc' ? 'asc' : 'desc' };
    const csv = apiUrl('/api/detections.csv', q);
    return html`<h1>Detections</h1>
      <form class="toolbar" @submit=${(e: SubmitEvent) => this.#applyFilters(e)} aria-label="filters">
        ${this.renderRangePicker()}
        <label
          >Threat level
          <select name="level" aria-label="threat level">
            <option value="">any</option>
            ${THREAT_LEVELS.map((l) => html`<option value=${l} ?selected=${this.param('level') === l}>${l}</option>`)}
            <option value="high,critical" ?selected=${this.param('level') === 'high,critical'}>high + critical</option>
          </select></label
        >
        ${FILTERS.map((f) => html`<label>${f.toUpperCase()} <input name=${f} .value=${this.param(f)} size="14" /></label>`)}
        <label>Min score <input name="min_score" type="number" min="0" max="1" step="0.05" .value=${this.param('min_score')} style="width:6em" /></label>
        <button type="submit" class="primary">Apply</button>
        <a href=${csv} download="detections.csv">Export CSV</a>
      </form>
      ${this.renderStatus()}
      <ja4-table
        caption="Detections, newest first unless sorted otherwise"
        .sort=${sort}
        @ja4-sort=${(e: CustomEvent<SortChange>) => this.setQuery({ sort: e.detail.key, order: e.detail.dir, offset: undefined })}
        .rows=${rows}
        .columns=${[
          { key: 'detected_at', label: 'Detected (UTC)', sortable: true, render: (d: Detection) => fmtTime(d.detected_at) },
          { key: 'threat_level', label: 'Level', sortable: true, render: (d: Detection) => html`<ja4-threat level=${d.threat_level}></ja4-threat>` },
          { key: 'score', label: 'Score', sortable: true, numeric: true, render: (d: Detection) => fmtScore(d.score) },
          { key: 'client_ip', label: 'Client IP', render: (d: Detection) => html`<a href=${links.ip(d.client_ip)}>${d.client_ip}</a>` },
          { key: 'ja4', label: 'JA4', render: (d: Detection) => html`<a href=${links.ja4(d.ja4)}><code>${d.ja4}</code></a>` },
          { key: 'host', label: 'Host' },
          { key: 'bot_name', label: 'Bot' },
          { key: 'requests', label: 'Requests', sortable: true, numeric: true, render: (d: Detection) => fmtInt(d.requests) },
          { key: 'voices', label: 'Voices', render: (d: Detection) => d.voices.join(', ') },
          {
            key: 'campaign_id',
            label: 'Campaign',
            render: (d: Detection) => (d.campaign_id ? html`<a href=${links.cluster(d.campaign_id)}>${d.campaign_id}</a>` : ''),
          },
        ]}
      ></ja4-table>
      ${this.renderPager(this.page, PAGE_SIZE)}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-detections-page': Ja4DetectionsPage;
  }
}
