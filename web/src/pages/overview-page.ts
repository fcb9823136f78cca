// Overview: the headline numbers of the window, detections by threat level,
// traffic and detections over time, the top JA4s / ASNs / countries / hosts,
// and the live detection ticker. KPIs pushed on the `kpis` topic refresh
// the live figures without a reload.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { TopicController } from '../api/live-feed.js';
import { fmtBucket, fmtCompact, fmtInt, fmtShare, levelColor, shortLabel } from '../format.js';
import { links } from '../router/routes.js';
import { fillBuckets } from '../charts/fill-buckets.js';
import { PageElement } from './page-base.js';
import {
  THREAT_LEVELS,
  TOP_DIMENSIONS,
  type EventMessage,
  type KpisEvent,
  type OverviewResponse,
  type TimelineResponse,
  type TopDimension,
  type TopResponse,
} from '../../../src/dashboard/api-types.js';

const TOP_TITLES: Record<TopDimension, string> = { ja4: 'Top JA4s', asn: 'Top ASNs', country: 'Top countries', host: 'Top hosts' };

@customElement('ja4-overview-page')
export class Ja4OverviewPage extends PageElement {
  @state() private overview: OverviewResponse | undefined;
  @state() private timeline: TimelineResponse | undefined;
  @state() private top: Partial<Record<TopDimension, TopResponse>> = {};
  @state() private live: KpisEvent | undefined;

  constructor() {
    super();
    new TopicController(this, () => ['kpis'], (ev) => (this.live = (ev as EventMessage<'kpis'>).data));
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const range = this.range();
    const bucket = this.hours <= 6 ? 5 : this.hours <= 24 ? 60 : 360;
    const r = await this.gather(
      {
        overview: api.get<OverviewResponse>('/api/overview', range, signal),
        timeline: api.get<TimelineResponse>('/api/overview/timeline', { ...range, bucket_minutes: bucket }, signal),
        ...Object.fromEntries(TOP_DIMENSIONS.map((d) => [d, api.get<TopResponse>(`/api/overview/top/${d}`, { ...range, limit: 10 }, signal)])),
      } as Record<'overview' | 'timeline' | TopDimension, Promise<unknown>>,
      signal,
    );
    this.overview = r.overview as OverviewResponse | undefined;
    const timeline = r.timeline as TimelineResponse | undefined;
    this.timeline = timeline && {
      ...timeline,
      points: fillBuckets(timeline.points, range, timeline.bucket_minutes, (b) => ({ bucket: b, total_requests: 0, automated: 0, errors: 0, detections: 0 })),
    };
    this.top = Object.fromEntries(TOP_DIMENSIONS.map((d) => [d, r[d] as TopResponse | undefined]));
  }

  #topKey(d: TopDimension, key: string) {
    if (d === 'ja4') return html`<a href=${links.ja4(key)}><code>${key}</code></a>`;
    if (d === 'asn') return html`<a href=${`/logs?asn=${encodeURIComponent(key)}`}>AS${key}</a>`;
    if (d === 'country') return html`<a href=${`/logs?country=${encodeURIComponent(key)}`}>${key || '??'}</a>`;
    return html`<a href=${`/logs?host=${encodeURIComponent(key)}`}>${key}</a>`;
  }

  override render() {
    const k = this.overview?.kpis;
    const levels = this.overview?.detections_by_level ?? [];
    const byLevel = THREAT_LEVELS.map((l) => levels.find((x) => x.threat_level === l)?.detections ?? 0);
    const points = this.timeline?.points ?? [];
    const withDay = this.hours > 24;
    return html`<h1>Overview</h1>
      <div class="toolbar">${this.renderRangePicker()}</div>
      ${this.renderStatus()}
      <section class="kpis" aria-label="key figures">
        <ja4-kpi label="Requests" value=${fmtCompact(k?.total_requests)} hint=${fmtCompact(k?.total_requests) === fmtInt(k?.total_requests) ? '' : fmtInt(k?.total_requests)}></ja4-kpi>
        <ja4-kpi label="Unique IPs" value=${fmtInt(k?.unique_ips)}></ja4-kpi>
        <ja4-kpi label="Unique JA4s" value=${fmtInt(k?.unique_ja4s)}></ja4-kpi>
        <ja4-kpi label="Detections" value=${fmtInt(k?.detections)}></ja4-kpi>
        <ja4-kpi label="Bot share" value=${fmtShare(k?.bot_share)} hint=${this.live ? `live: ${fmtShare(this.live.bot_share)}` : ''}></ja4-kpi>
        <ja4-kpi label="Requests / min (live)" value=${this.live ? fmtInt(this.live.requests_per_minute) : '–'}></ja4-kpi>
      </section>
      <div class="grid">
        <section class="card wide">
          <h2>Traffic</h2>
          <ja4-chart
            id="traffic-chart"
            kind="line"
            summary="requests and automated requests over time"
            .labels=${points.map((p) => fmtBucket(p.bucket, withDay))}
            .series=${[
              { label: 'requests', data: points.map((p) => p.total_requests) },
              { label: 'automated', data: points.map((p) => p.automated), color: '--level-high' },
              { label: 'errors', data: points.map((p) => p.errors), color: '--chart-4' },
            ]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Detections by threat level</h2>
          <ja4-chart
            id="levels-chart"
            kind="doughnut"
            summary="detections by threat level"
            .labels=${[...THREAT_LEVELS]}
            .series=${[{ label: 'detections', data: byLevel, colors: THREAT_LEVELS.map(levelColor) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Detections over time</h2>
          <ja4-chart
            id="detections-chart"
            kind="bar"
            summary="detections over time"
            .labels=${points.map((p) => fmtBucket(p.bucket, withDay))}
            .series=${[{ label: 'detections', data: points.map((p) => p.detections), color: '--level-critical' }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Live detections</h2>
          <ja4-ticker topic="detections" limit="12" compact></ja4-ticker>
        </section>
        ${TOP_DIMENSIONS.map((d) => {
          const items = this.top[d]?.items ?? [];
          return html`<section class="card">
            <h2>${TOP_TITLES[d]}</h2>
            <ja4-chart
              id=${`top-${d}-chart`}
              kind="hbar"
              color-by-point
              summary=${`${TOP_TITLES[d]} by requests`}
              .labels=${items.map((i) => (d === 'asn' ? `AS${i.key}` : shortLabel(i.key || '??')))}
              .series=${[{ label: 'requests', data: items.map((i) => i.total_requests) }]}
            ></ja4-chart>
            <ja4-table
              .rows=${items}
              .columns=${[
                { key: 'key', label: d.toUpperCase(), render: (i: (typeof items)[number]) => this.#topKey(d, i.key) },
                { key: 'label', label: 'Name' },
                { key: 'total_requests', label: 'Requests', numeric: true, render: (i: (typeof items)[number]) => fmtInt(i.total_requests) },
                { key: 'ips', label: 'IPs', numeric: true, render: (i: (typeof items)[number]) => fmtInt(i.ips) },
                { key: 'automated_ratio', label: 'Automated', numeric: true, render: (i: (typeof items)[number]) => fmtShare(i.automated_ratio) },
              ]}
            ></ja4-table>
          </section>`;
        })}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-overview-page': Ja4OverviewPage;
  }
}
