// One campaign (/cluster/{id}): its size, timeline, the JA4s / ASNs / hosts
// it spans, and its member IPs; analysts label the whole campaign or a
// selection of members at once (bulk classification, one audit row each).
import { html } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { api, enc } from '../api/client.js';
import { fmtBucket, fmtInt, fmtScore, fmtTime, shortLabel } from '../format.js';
import { links } from '../router/routes.js';
import { PageElement, roleAtLeast } from './page-base.js';
import type { Ja4Table } from '../components/data-table.js';
import type { CampaignMember, CampaignMembersResponse, CampaignResponse } from '../../../src/dashboard/api-types.js';

const MEMBERS_PAGE = 100;

@customElement('ja4-cluster-page')
export class Ja4ClusterPage extends PageElement {
  @state() private campaign: CampaignResponse | undefined;
  @state() private members: CampaignMembersResponse | undefined;
  @state() private selected: string[] = [];
  @query('#members') private membersTable!: Ja4Table<CampaignMember>;

  get #id(): string {
    return this.route.params.id ?? '';
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const range = this.range();
    const base = `/api/campaigns/${enc(this.#id)}`;
    const r = await this.gather(
      {
        campaign: api.get<CampaignResponse>(base, range, signal),
        members: api.get<CampaignMembersResponse>(`${base}/members`, { ...range, limit: MEMBERS_PAGE, offset: this.offsetParam() }, signal),
      },
      signal,
    );
    Object.assign(this, r);
  }

  #classified(): void {
    this.membersTable?.clearSelection();
    this.selected = [];
    void this.reload();
  }

  override render() {
    const id = this.#id;
    const c = this.campaign?.campaign;
    const t = this.campaign?.timeline ?? [];
    const analyst = roleAtLeast(this.userRole, 'analyst');
    const cls = this.campaign?.classification;
    return html`<h1>
        Campaign <code>${id}</code>
        ${cls ? html`<ja4-threat level=${cls.label} title=${`by ${cls.actor}: ${cls.note}`}></ja4-threat>` : ''}
        ${analyst ? html`<ja4-classify subject-type="campaign" subject=${id} label="Classify campaign" @ja4-classified=${() => this.reload()}></ja4-classify>` : ''}
      </h1>
      <div class="toolbar">${this.renderRangePicker()} <a href=${`/detections?campaign=${enc(id)}`}>Its detections</a></div>
      ${this.renderStatus()}
      <section class="kpis" aria-label="key figures">
        <ja4-kpi label="Detections" value=${fmtInt(c?.detections)}></ja4-kpi>
        <ja4-kpi label="IPs" value=${fmtInt(c?.ips)}></ja4-kpi>
        <ja4-kpi label="JA4s" value=${fmtInt(c?.ja4s)}></ja4-kpi>
        <ja4-kpi label="Hosts" value=${fmtInt(c?.hosts)}></ja4-kpi>
        <ja4-kpi label="Max score" value=${fmtScore(c?.max_score)}></ja4-kpi>
        <ja4-kpi label="Active" value=${c ? fmtTime(c.first_seen).slice(5, 16) : '–'} hint=${c ? `until ${fmtTime(c.last_seen)}` : ''}></ja4-kpi>
      </section>
      <div class="grid">
        <section class="card wide">
          <h2>Timeline</h2>
          <ja4-chart
            id="cluster-timeline-chart"
            kind="line"
            summary="detections and IPs of the campaign over time"
            .labels=${t.map((p) => fmtBucket(p.bucket, this.hours > 24))}
            .series=${[
              { label: 'detections', data: t.map((p) => p.detections), color: '--level-critical' },
              { label: 'IPs', data: t.map((p) => p.ips) },
            ]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>JA4s</h2>
          <ja4-chart
            id="cluster-ja4-chart"
            kind="hbar"
            color-by-point
            summary="detections per JA4"
            .labels=${(this.campaign?.ja4s ?? []).map((x) => shortLabel(x.ja4))}
            .series=${[{ label: 'detections', data: (this.campaign?.ja4s ?? []).map((x) => x.detections) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>ASNs</h2>
          <ja4-chart
            id="cluster-asn-chart"
            kind="hbar"
            color-by-point
            summary="detections per ASN"
            .labels=${(this.campaign?.asns ?? []).map((x) => `AS${x.asn}`)}
            .series=${[{ label: 'detections', data: (this.campaign?.asns ?? []).map((x) => x.detections) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Hosts</h2>
          <ja4-chart
            id="cluster-host-chart"
            kind="hbar"
            color-by-point
            summary="detections per host"
            .labels=${(this.campaign?.hosts ?? []).map((x) => shortLabel(x.host, 20))}
            .series=${[{ label: 'detections', data: (this.campaign?.hosts ?? []).map((x) => x.detections) }]}
          ></ja4-chart>
        </section>
        <section class="card wide">
          <h2>Members</h2>
          ${analyst
            ? html`<div class="toolbar">
                <ja4-classify
                  subject-type="ip"
                  .subjects=${this.selected}
                  label=${`Classify ${this.selected.length} selected IPs`}
                  @ja4-classified=${() => this.#classified()}
                ></ja4-classify>
              </div>`
            : ''}
          <ja4-table
            id="members"
            caption="Member IPs"
            client-sort
            .rowKey=${analyst ? (m: CampaignMember) => m.client_ip : undefined}
            @ja4-selection=${(e: CustomEvent<string[]>) => (this.selected = e.detail)}
            .rows=${this.members?.items ?? []}
            .columns=${[
              { key: 'client_ip', label: 'Client IP', render: (m: CampaignMember) => html`<a href=${links.ip(m.client_ip)}>${m.client_ip}</a>` },
              { key: 'ja4s', label: 'JA4s', render: (m: CampaignMember) => html`${m.ja4s.map((j) => html`<a href=${links.ja4(j)}><code>${j}</code></a> `)}` },
              { key: 'detections', label: 'Detections', sortable: true, numeric: true },
              { key: 'max_score', label: 'Max score', sortable: true, numeric: true, render: (m: CampaignMember) => fmtScore(m.max_score) },
              { key: 'threat_level', label: 'Level', render: (m: CampaignMember) => html`<ja4-threat level=${m.threat_level}></ja4-threat>` },
              { key: 'asn', label: 'ASN', render: (m: CampaignMember) => (m.asn ? `AS${m.asn}` : '') },
              { key: 'country', label: 'Country' },
              { key: 'last_seen', label: 'Last seen', sortable: true, render: (m: CampaignMember) => fmtTime(m.last_seen) },
              { key: 'classification', label: 'Verdict', render: (m: CampaignMember) => html`<ja4-threat level=${m.classification}></ja4-threat>` },
            ]}
          ></ja4-table>
          ${this.renderPager(this.members, MEMBERS_PAGE)}
        </section>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-cluster-page': Ja4ClusterPage;
  }
}
