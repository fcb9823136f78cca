// Campaigns: the detector's clusters of related detections (same tooling
// across many IPs), biggest first, each linking to /cluster/{id}.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { fmtInt, fmtScore, fmtTime } from '../format.js';
import { links } from '../router/routes.js';
import { PageElement } from './page-base.js';
import type { CampaignSummary, CampaignsResponse } from '../../../src/dashboard/api-types.js';

const PAGE_SIZE = 50;

@customElement('ja4-campaigns-page')
export class Ja4CampaignsPage extends PageElement {
  @state() private page: CampaignsResponse | undefined;

  protected async load(signal: AbortSignal): Promise<void> {
    this.page = await api.get<CampaignsResponse>('/api/campaigns', { ...this.range(), limit: PAGE_SIZE, offset: this.offsetParam() }, signal);
  }

  override render() {
    const rows = this.page?.items ?? [];
    return html`<h1>Campaigns</h1>
      <div class="toolbar">${this.renderRangePicker()}</div>
      ${this.renderStatus()}
      <ja4-table
        caption="Campaigns in the window"
        client-sort
        .rows=${rows}
        .columns=${[
          { key: 'campaign_id', label: 'Campaign', render: (c: CampaignSummary) => html`<a href=${links.cluster(c.campaign_id)}>${c.campaign_id}</a>` },
          { key: 'max_threat_level', label: 'Level', render: (c: CampaignSummary) => html`<ja4-threat level=${c.max_threat_level}></ja4-threat>` },
          { key: 'detections', label: 'Detections', sortable: true, numeric: true, render: (c: CampaignSummary) => fmtInt(c.detections) },
          { key: 'ips', label: 'IPs', sortable: true, numeric: true, render: (c: CampaignSummary) => fmtInt(c.ips) },
          { key: 'ja4s', label: 'JA4s', sortable: true, numeric: true },
          { key: 'hosts', label: 'Hosts', sortable: true, numeric: true },
          { key: 'max_score', label: 'Max score', sortable: true, numeric: true, render: (c: CampaignSummary) => fmtScore(c.max_score) },
          { key: 'top_ja4', label: 'Main JA4', render: (c: CampaignSummary) => html`<a href=${links.ja4(c.top_ja4)}><code>${c.top_ja4}</code></a>` },
          { key: 'first_seen', label: 'First seen', sortable: true, render: (c: CampaignSummary) => fmtTime(c.first_seen) },
          { key: 'last_seen', label: 'Last seen', sortable: true, render: (c: CampaignSummary) => fmtTime(c.last_seen) },
          { key: 'classification', label: 'Verdict', render: (c: CampaignSummary) => html`<ja4-threat level=${c.classification}></ja4-threat>` },
        ]}
      ></ja4-table>
      ${this.renderPager(this.page, PAGE_SIZE)}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-campaigns-page': Ja4CampaignsPage;
  }
}
