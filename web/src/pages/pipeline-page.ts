// Pipeline health: ingest rate per minute, lag of the newest request and
// score, the running pipeline's counters (drops by reason), the capture
// spool, and the dashboard's own WebSocket counters. The `health` topic
// pushes fresh figures, so the page stays current without polling.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { TopicController } from '../api/live-feed.js';
import { fmtBucket, fmtCompact, fmtDuration, fmtInt, fmtTime } from '../format.js';
import { PageElement } from './page-base.js';
import type { EventMessage, PipelineHealth } from '../../../src/dashboard/api-types.js';

@customElement('ja4-pipeline-page')
export class Ja4PipelinePage extends PageElement {
  @state() private health: PipelineHealth | undefined;

  constructor() {
    super();
    new TopicController(this, () => ['health'], (ev) => (this.health = (ev as EventMessage<'health'>).data));
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.health = await api.get<PipelineHealth>('/api/pipeline', {}, signal);
  }

  override render() {
    const h = this.health;
    const per = h?.ingest_per_minute ?? [];
    const counters = Object.entries(h?.counters ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const lag = (s: number | null | undefined) => (s === null || s === undefined ? '–' : fmtDuration(s * 1000));
    return html`<h1>Pipeline health</h1>
      ${this.renderStatus()}
      <p class="muted">As of ${fmtTime(h?.at)}</p>
      <section class="kpis" aria-label="key figures">
        <ja4-kpi label="Requests / min (last)" value=${fmtInt(per.at(-1)?.rows)}></ja4-kpi>
        <ja4-kpi label="Lag: HTTP logs" value=${lag(h?.lag_seconds.http_logs)}></ja4-kpi>
        <ja4-kpi label="Lag: scores" value=${lag(h?.lag_seconds.scores)}></ja4-kpi>
        <ja4-kpi label="Spool" value=${h?.spool ? fmtCompact(h.spool.bytes) + 'B' : '–'} hint=${h?.spool ? `${h.spool.files} files` : 'not reported'}></ja4-kpi>
        <ja4-kpi label="WebSocket clients" value=${fmtInt(h?.websocket.clients)}></ja4-kpi>
        <ja4-kpi label="Slow clients dropped" value=${fmtInt(h?.websocket.dropped_slow)}></ja4-kpi>
      </section>
      <div class="grid">
        <section class="card wide">
          <h2>Ingest rate (rows per minute)</h2>
          <ja4-chart
            id="pipeline-ingest-chart"
            kind="bar"
            summary="rows written per minute"
            .labels=${per.map((p) => fmtBucket(p.minute))}
            .series=${[{ label: 'rows', data: per.map((p) => p.rows) }]}
          ></ja4-chart>
        </section>
        <section class="card wide">
          <h2>Counters</h2>
          ${counters.length === 0
            ? html`<p class="muted">No counters reported (the dashboard runs without <code>ja4 run</code>).</p>`
            : html`<ja4-table
                client-sort
                .rows=${counters.map(([name, value]) => ({ name, value }))}
                .columns=${[
                  { key: 'name', label: 'Counter', sortable: true, render: (r: { name: string }) => html`<code>${r.name}</code>` },
                  { key: 'value', label: 'Value', sortable: true, numeric: true, render: (r: { value: number }) => fmtInt(r.value) },
                ]}
              ></ja4-table>`}
        </section>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-pipeline-page': Ja4PipelinePage;
  }
}
