// IP investigation (/ip/{ip}): one client over time. Its network, its hourly
// history, how it rotates JA4s and user agents (each hour's set, charted as
// presence: rotation shows as changing colours), its request cadence and
// inter-arrival statistics, and the detector's scores with their
// explanations; the analyst's verdict and the classify action.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, enc } from '../api/client.js';
import { fmtBucket, fmtDuration, fmtInt, fmtScore, fmtTime, shortLabel } from '../format.js';
import { links } from '../router/routes.js';
import { fillBuckets } from '../charts/fill-buckets.js';
import { PageElement } from './page-base.js';
import { renderLogTable } from '../components/log-table.js';
import type { Ja4ChartSeries } from '../charts/ja4-chart.js';
import type {
  IpCadenceResponse,
  IpHistoryHour,
  IpHistoryResponse,
  IpScore,
  IpScoresResponse,
  IpSummaryResponse,
  LogsResponse,
} from '../../../src/dashboard/api-types.js';

const SCORES_PAGE = 25;
/** series beyond this many are folded into "other" so the legend stays readable */
const MAX_SERIES = 6;

function explanation(s: IpScore) {
  if (s.top_features.length === 0) return html`<span class="muted">–</span>`;
  return html`<ul class="plain">
    ${s.top_features.map((f, i) => html`<li><code>${f}</code> ${(s.top_contributions[i] ?? 0) >= 0 ? '+' : ''}${(s.top_contributions[i] ?? 0).toFixed(3)}</li>`)}
  </ul>`;
}

@customElement('ja4-ip-page')
export class Ja4IpPage extends PageElement {
  @state() private summary: IpSummaryResponse | undefined;
  @state() private history: IpHistoryResponse | undefined;
  @state() private cadence: IpCadenceResponse | undefined;
  @state() private scores: IpScoresResponse | undefined;
  @state() private logs: LogsResponse | undefined;

  get #ip(): string {
    return this.route.params.ip ?? '';
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const range = this.range();
    // the cadence endpoint serves at most 24 hours
    const cadenceHours = Math.min(this.hours, 24);
    const cadenceRange = { from: new Date(Date.parse(range.to) - cadenceHours * 3_600_000).toISOString(), to: range.to };
    const base = `/api/ip/${enc(this.#ip)}`;
    const r = await this.gather(
      {
        summary: api.get<IpSummaryResponse>(base, range, signal),
        history: api.get<IpHistoryResponse>(`${base}/history`, range, signal),
        cadence: api.get<IpCadenceResponse>(`${base}/cadence`, { ...cadenceRange, bucket_seconds: cadenceHours <= 1 ? 60 : cadenceHours <= 6 ? 300 : 900 }, signal),
        scores: api.get<IpScoresResponse>(`${base}/scores`, { ...range, limit: SCORES_PAGE, offset: this.offsetParam('scores_offset') }, signal),
        logs: api.get<LogsResponse>('/api/logs', { ...range, ip: this.#ip, limit: 20 }, signal),
      },
      signal,
    );
    Object.assign(this, r);
    const cad = r.cadence;
    if (cad) this.cadence = { ...cad, points: fillBuckets(cad.points, cadenceRange, cad.bucket_seconds / 60, (b) => ({ bucket: b, total_requests: 0 })) };
  }

  /** one series per JA4 (1 in the hours it was used), the busiest first */
  #ja4Rotation(hours: IpHistoryHour[]): Ja4ChartSeries[] {
    const counts = new Map<string, number>();
    for (const h of hours) for (const j of h.ja4s) counts.set(j, (counts.get(j) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([j]) => j);
    const shown = top.slice(0, MAX_SERIES);
    const series: Ja4ChartSeries[] = shown.map((j) => ({ label: shortLabel(j, 20), data: hours.map((h) => (h.ja4s.includes(j) ? 1 : 0)) }));
    if (top.length > MAX_SERIES) series.push({ label: 'other', data: hours.map((h) => h.ja4s.filter((j) => !shown.includes(j)).length) });
    return series;
  }

  /** requests per user agent per hour */
  #uaRotation(): Ja4ChartSeries[] {
    const rows = this.history?.user_agents ?? [];
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.user_agent, (totals.get(r.user_agent) ?? 0) + r.total_requests);
    const shown = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_SERIES).map(([ua]) => ua);
    const hours = this.history?.hours.map((h) => h.hour_start) ?? [];
    return shown.map((ua) => ({
      label: shortLabel(ua || '(none)', 40),
      data: hours.map((h) => rows.filter((r) => r.hour_start === h && r.user_agent === ua).reduce((n, r) => n + r.total_requests, 0)),
    }));
  }

  override render() {
    const ip = this.#ip;
    const k = this.summary?.kpis;
    const n = this.summary?.network;
    const cls = this.summary?.classification;
    const hours = this.history?.hours ?? [];
    const hourLabels = hours.map((h) => fmtBucket(h.hour_start, this.hours > 24));
    const cad = this.cadence;
    return html`${this.renderSubjectHead('ip', 'IP', ip, cls)}
      <section class="kpis" aria-label="key figures">
        <ja4-kpi label="Requests" value=${fmtInt(k?.total_requests)}></ja4-kpi>
        <ja4-kpi label="JA4s" value=${fmtInt(k?.ja4s)}></ja4-kpi>
        <ja4-kpi label="User agents" value=${fmtInt(k?.distinct_uas)}></ja4-kpi>
        <ja4-kpi label="Hosts" value=${fmtInt(k?.hosts)}></ja4-kpi>
        <ja4-kpi label="Detections" value=${fmtInt(k?.detections)}></ja4-kpi>
        <ja4-kpi label="Max score" value=${fmtScore(k?.max_score)}></ja4-kpi>
      </section>
      <div class="grid">
        <section class="card">
          <h2>Network</h2>
          <dl class="facts">
            <dt>ASN</dt>
            <dd>${n?.asn ? `AS${n.asn} ${n.asn_name}` : html`<span class="muted">unknown</span>`}</dd>
            <dt>Country</dt>
            <dd>${n?.country || html`<span class="muted">unknown</span>`}</dd>
            <dt>ASN reputation</dt>
            <dd>${n?.asn_label || html`<span class="muted">none</span>`}</dd>
            <dt>Known bot network</dt>
            <dd>${n?.bot_network || html`<span class="muted">no</span>`}</dd>
            <dt>First / last seen</dt>
            <dd>${fmtTime(k?.first_seen)} / ${fmtTime(k?.last_seen)}</dd>
            ${cls ? html`<dt>Analyst verdict</dt><dd>${cls.label} by ${cls.actor} (${fmtTime(cls.updated_at)}): ${cls.note}</dd>` : ''}
          </dl>
        </section>
        <section class="card">
          <h2>Request cadence <span class="muted">(${cad?.bucket_seconds ?? '–'} s buckets)</span></h2>
          <ja4-chart
            id="ip-cadence-chart"
            kind="bar"
            summary="requests per time bucket"
            .labels=${(cad?.points ?? []).map((p) => fmtTime(p.bucket).slice(11, 16))}
            .series=${[{ label: 'requests', data: (cad?.points ?? []).map((p) => p.total_requests) }]}
          ></ja4-chart>
          <p class="muted">
            Inter-arrival: ${fmtInt(cad?.iat.n)} gaps, mean ${fmtDuration(cad?.iat.mean_ms)}, coefficient of variation
            ${cad ? cad.iat.cv.toFixed(2) : '–'} (near 0: machine-regular)
          </p>
        </section>
        <section class="card wide">
          <h2>Requests per hour</h2>
          <ja4-chart
            id="ip-history-chart"
            kind="bar"
            summary="requests and errors per hour"
            .labels=${hourLabels}
            .series=${[
              { label: 'requests', data: hours.map((h) => h.total_requests) },
              { label: 'errors', data: hours.map((h) => h.error_count), color: '--level-high' },
            ]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>JA4 rotation</h2>
          <ja4-chart id="ip-ja4-rotation-chart" kind="bar" stacked summary="JA4s used in each hour" .labels=${hourLabels} .series=${this.#ja4Rotation(hours)}></ja4-chart>
        </section>
        <section class="card">
          <h2>User-agent rotation</h2>
          <ja4-chart id="ip-ua-rotation-chart" kind="bar" stacked summary="requests per user agent per hour" .labels=${hourLabels} .series=${this.#uaRotation()}></ja4-chart>
        </section>
        <section class="card wide">
          <h2>History</h2>
          <ja4-table
            .rows=${hours}
            .columns=${[
              { key: 'hour_start', label: 'Hour (UTC)', render: (h: IpHistoryHour) => fmtTime(h.hour_start) },
              { key: 'total_requests', label: 'Requests', numeric: true },
              { key: 'ja4s', label: 'JA4s', render: (h: IpHistoryHour) => html`${h.ja4s.map((j) => html`<a href=${links.ja4(j)}><code>${j}</code></a> `)}` },
              { key: 'hosts', label: 'Hosts', render: (h: IpHistoryHour) => h.hosts.join(', ') },
              { key: 'distinct_paths', label: 'Paths', numeric: true },
              { key: 'distinct_uas', label: 'UAs', numeric: true },
              { key: 'error_count', label: 'Errors', numeric: true },
            ]}
          ></ja4-table>
        </section>
        <section class="card wide">
          <h2>Scores and explanations</h2>
          <ja4-table
            .rows=${this.scores?.items ?? []}
            .columns=${[
              { key: 'scored_at', label: 'Scored (UTC)', render: (s: IpScore) => fmtTime(s.scored_at) },
              { key: 'window', label: 'Window', render: (s: IpScore) => `${s.window} @ ${fmtTime(s.window_start).slice(11, 16)}` },
              { key: 'ja4', label: 'JA4', render: (s: IpScore) => html`<a href=${links.ja4(s.ja4)}><code>${s.ja4}</code></a>` },
              { key: 'host', label: 'Host' },
              { key: 'score', label: 'Score', numeric: true, render: (s: IpScore) => fmtScore(s.score) },
              {
                key: 'voices',
                label: 'iforest / AE / GBT',
                render: (s: IpScore) => `${fmtScore(s.score_iforest)} / ${fmtScore(s.score_autoencoder)} / ${fmtScore(s.score_gbt)}`,
              },
              { key: 'threat_level', label: 'Level', render: (s: IpScore) => html`<ja4-threat level=${s.is_anomaly ? s.threat_level : ''}></ja4-threat>` },
              { key: 'bot_name', label: 'Bot' },
              { key: 'top_features', label: 'Explanation', render: explanation },
            ]}
          ></ja4-table>
          ${this.renderPager(this.scores, SCORES_PAGE, 'scores_offset')}
        </section>
        <section class="card wide">
          <h2>Live detections</h2>
          <ja4-ticker topic=${`ip:${ip}`} .filter=${{ ip }} limit="8"></ja4-ticker>
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
    'ja4-ip-page': Ja4IpPage;
  }
}
