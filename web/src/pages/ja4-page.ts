// JA4 investigation (/ja4/{fingerprint}): what this TLS client is. Its
// volume and spread, timeline, detections by threat level, the client IPs
// using it with their scores, its networks and user agents, its HTTP logs,
// the detector's feature values, the FoxIO reference mapping and the hourly
// JA4 signals; the analyst's verdict and the classify action.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, enc } from '../api/client.js';
import { fmtBucket, fmtInt, fmtScore, fmtShare, fmtTime, levelColor, shortLabel } from '../format.js';
import { links } from '../router/routes.js';
import { fillBuckets } from '../charts/fill-buckets.js';
import { PageElement } from './page-base.js';
import { renderLogTable } from '../components/log-table.js';
import type {
  FeaturesResponse,
  Ja4BreakdownResponse,
  Ja4ClientIp,
  Ja4IpsResponse,
  Ja4SummaryResponse,
  Ja4TimelineResponse,
  LogsResponse,
} from '../../../src/dashboard/api-types.js';

const IPS_PAGE = 25;

@customElement('ja4-ja4-page')
export class Ja4Ja4Page extends PageElement {
  @state() private summary: Ja4SummaryResponse | undefined;
  @state() private timeline: Ja4TimelineResponse | undefined;
  @state() private breakdown: Ja4BreakdownResponse | undefined;
  @state() private ips: Ja4IpsResponse | undefined;
  @state() private features: FeaturesResponse | undefined;
  @state() private logs: LogsResponse | undefined;

  get #fp(): string {
    return this.route.params.fingerprint ?? '';
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const range = this.range();
    const base = `/api/ja4/${enc(this.#fp)}`;
    const r = await this.gather(
      {
        summary: api.get<Ja4SummaryResponse>(base, range, signal),
        timeline: api.get<Ja4TimelineResponse>(`${base}/timeline`, { ...range, bucket_minutes: this.hours <= 6 ? 5 : 60 }, signal),
        breakdown: api.get<Ja4BreakdownResponse>(`${base}/breakdown`, range, signal),
        ips: api.get<Ja4IpsResponse>(`${base}/ips`, { ...range, limit: IPS_PAGE, offset: this.offsetParam('ips_offset') }, signal),
        features: api.get<FeaturesResponse>(`${base}/features`, range, signal),
        logs: api.get<LogsResponse>('/api/logs', { ...range, ja4: this.#fp, limit: 20 }, signal),
      },
      signal,
    );
    Object.assign(this, r);
    const tl = r.timeline;
    if (tl) this.timeline = { ...tl, points: fillBuckets(tl.points, range, tl.bucket_minutes, (b) => ({ bucket: b, total_requests: 0, ips: 0, error_count: 0 })) };
  }

  #renderReference() {
    const r = this.summary?.reference;
    if (r === undefined) return '';
    const facts: [string, string][] = [
      ['Application', r.application],
      ['Library', r.library],
      ['Device', r.device],
      ['OS', r.os],
      ['Known bot', r.bot_name ? `${r.bot_name}${r.bot_category ? ` (${r.bot_category})` : ''}` : ''],
      ['Browser', r.browser],
    ];
    return html`<dl class="facts">
      ${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v || html`<span class="muted">unknown</span>`}</dd>`)}
    </dl>`;
  }

  #renderSignals() {
    const s = this.summary?.signals;
    if (s === null || s === undefined) return html`<p class="muted">No traffic in the latest hour.</p>`;
    const facts: [string, string][] = [
      ['Hour', fmtTime(s.hour)],
      ['Requests', fmtInt(s.requests)],
      ['HTTP/2 share', fmtShare(s.h2_ratio)],
      ['HTTP/3 share', fmtShare(s.h3_ratio)],
      ['Browser UA share', fmtShare(s.browser_ua_ratio)],
      ['UA/JA4 mismatch', fmtShare(s.ua_ja4_mismatch_ratio)],
      ['Known bot IPs', fmtShare(s.bot_ip_ratio)],
      ['4xx share', fmtShare(s.status_4xx_ratio)],
      ['Distinct UAs / paths / IPs / ASNs', `${s.distinct_uas} / ${s.distinct_paths} / ${s.distinct_ips} / ${s.distinct_asns}`],
      ['Volume rank (quantile)', `${s.volume_rank} (${fmtShare(s.volume_quantile)})`],
    ];
    return html`<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
  }

  override render() {
    const fp = this.#fp;
    const k = this.summary?.kpis;
    const points = this.timeline?.points ?? [];
    const b = this.breakdown;
    const cls = this.summary?.classification;
    const features = Object.entries(this.features?.features ?? {}).sort(([a], [b2]) => a.localeCompare(b2));
    return html`${this.renderSubjectHead('ja4', 'JA4', fp, cls)}
      <section class="kpis" aria-label="key figures">
        <ja4-kpi label="Requests" value=${fmtInt(k?.total_requests)}></ja4-kpi>
        <ja4-kpi label="Client IPs" value=${fmtInt(k?.ips)}></ja4-kpi>
        <ja4-kpi label="User agents" value=${fmtInt(k?.distinct_uas)}></ja4-kpi>
        <ja4-kpi label="Hosts" value=${fmtInt(k?.hosts)}></ja4-kpi>
        <ja4-kpi label="Detections" value=${fmtInt(k?.detections)}></ja4-kpi>
        <ja4-kpi label="Max score" value=${fmtScore(k?.max_score)}></ja4-kpi>
      </section>
      <p class="muted">First seen ${fmtTime(k?.first_seen)} · last seen ${fmtTime(k?.last_seen)}</p>
      <div class="grid">
        <section class="card wide">
          <h2>Timeline</h2>
          <ja4-chart
            id="ja4-timeline-chart"
            kind="line"
            summary="requests and client IPs of this JA4 over time"
            .labels=${points.map((p) => fmtBucket(p.bucket, this.hours > 24))}
            .series=${[
              { label: 'requests', data: points.map((p) => p.total_requests) },
              { label: 'client IPs', data: points.map((p) => p.ips), color: '--chart-3' },
              { label: 'errors', data: points.map((p) => p.error_count), color: '--level-high' },
            ]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Detections by threat level</h2>
          <ja4-chart
            id="ja4-levels-chart"
            kind="pie"
            summary="detections of this JA4 by threat level"
            .labels=${(b?.threat_levels ?? []).map((x) => x.threat_level)}
            .series=${[{ label: 'detections', data: (b?.threat_levels ?? []).map((x) => x.detections), colors: (b?.threat_levels ?? []).map((x) => levelColor(x.threat_level)) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>ASNs</h2>
          <ja4-chart
            id="ja4-asn-chart"
            kind="hbar"
            color-by-point
            summary="requests by ASN"
            .labels=${(b?.asns ?? []).map((x) => (x.asn ? shortLabel(`AS${x.asn} ${x.asn_name}`.trim(), 14) : 'unknown'))}
            .series=${[{ label: 'requests', data: (b?.asns ?? []).map((x) => x.total_requests) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Countries</h2>
          <ja4-chart
            id="ja4-country-chart"
            kind="hbar"
            color-by-point
            summary="requests by country"
            .labels=${(b?.countries ?? []).map((x) => x.country || '??')}
            .series=${[{ label: 'requests', data: (b?.countries ?? []).map((x) => x.total_requests) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Reference mapping</h2>
          ${this.#renderReference()}
        </section>
        <section class="card">
          <h2>JA4 signals (latest hour)</h2>
          ${this.#renderSignals()}
        </section>
        <section class="card">
          <h2>Live detections</h2>
          <ja4-ticker topic=${`ja4:${fp}`} .filter=${{ ja4: fp }} limit="8" compact></ja4-ticker>
        </section>
        <section class="card wide">
          <h2>Client IPs</h2>
          <ja4-table
            .rows=${this.ips?.items ?? []}
            .columns=${[
              { key: 'client_ip', label: 'Client IP', render: (r: Ja4ClientIp) => html`<a href=${links.ip(r.client_ip)}>${r.client_ip}</a>` },
              { key: 'total_requests', label: 'Requests', numeric: true, render: (r: Ja4ClientIp) => fmtInt(r.total_requests) },
              { key: 'asn', label: 'ASN', render: (r: Ja4ClientIp) => (r.asn ? `AS${r.asn}` : '') },
              { key: 'country', label: 'Country' },
              { key: 'max_score', label: 'Max score', numeric: true, render: (r: Ja4ClientIp) => fmtScore(r.max_score) },
              { key: 'threat_level', label: 'Level', render: (r: Ja4ClientIp) => html`<ja4-threat level=${r.threat_level}></ja4-threat>` },
              { key: 'last_seen', label: 'Last seen', render: (r: Ja4ClientIp) => fmtTime(r.last_seen) },
            ]}
          ></ja4-table>
          ${this.renderPager(this.ips, IPS_PAGE, 'ips_offset')}
        </section>
        <section class="card wide">
          <h2>User agents</h2>
          <ja4-table
            .rows=${b?.user_agents ?? []}
            .columns=${[
              { key: 'user_agent', label: 'User agent', render: (r: { user_agent: string }) => html`<span class="mono">${r.user_agent || '(none)'}</span>` },
              { key: 'total_requests', label: 'Requests', numeric: true },
              { key: 'ips', label: 'IPs', numeric: true },
            ]}
          ></ja4-table>
        </section>
        <section class="card wide">
          <h2>Feature values <span class="muted">(mean over ${fmtInt(this.features?.rows)} windows)</span></h2>
          ${features.length === 0
            ? html`<p class="muted">No feature rows in this window.</p>`
            : html`<dl class="facts">${features.map(([name, v]) => html`<dt><code>${name}</code></dt><dd>${Number.isInteger(v) ? v : v.toFixed(4)}</dd>`)}</dl>`}
        </section>
        <section class="card wide">
          <h2>HTTP logs (latest 20)</h2>
          ${renderLogTable(this.logs?.items ?? [])}
        </section>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-ja4-page': Ja4Ja4Page;
  }
}
