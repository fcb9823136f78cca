// Model status: which model versions scored traffic and how much they
// flagged, the score distribution per hour (drift shows as a moving mean or
// p95), how often each voice of the ensemble fired, and the running model's
// manifest (training metrics).
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { fmtBucket, fmtInt, fmtShare, fmtTime } from '../format.js';
import { PageElement } from './page-base.js';
import type { ModelStatusResponse } from '../../../src/dashboard/api-types.js';

type Version = ModelStatusResponse['versions'][number];

@customElement('ja4-model-page')
export class Ja4ModelPage extends PageElement {
  @state() private status: ModelStatusResponse | undefined;

  protected async load(signal: AbortSignal): Promise<void> {
    this.status = await api.get<ModelStatusResponse>('/api/model', this.range(), signal);
  }

  override render() {
    const drift = this.status?.drift ?? [];
    const voices = this.status?.voices ?? [];
    const labels = drift.map((d) => fmtBucket(d.hour, this.hours > 24));
    return html`<h1>Model status</h1>
      <div class="toolbar">${this.renderRangePicker()}</div>
      ${this.renderStatus()}
      <div class="grid">
        <section class="card wide">
          <h2>Versions</h2>
          <ja4-table
            .rows=${this.status?.versions ?? []}
            .columns=${[
              { key: 'model_version', label: 'Version', render: (v: Version) => html`<code>${v.model_version}</code>` },
              { key: 'first_scored', label: 'First scored', render: (v: Version) => fmtTime(v.first_scored) },
              { key: 'last_scored', label: 'Last scored', render: (v: Version) => fmtTime(v.last_scored) },
              { key: 'rows', label: 'Scored rows', numeric: true, render: (v: Version) => fmtInt(v.rows) },
              { key: 'anomalies', label: 'Anomalies', numeric: true, render: (v: Version) => fmtInt(v.anomalies) },
              { key: 'anomaly_rate', label: 'Anomaly rate', numeric: true, render: (v: Version) => fmtShare(v.anomaly_rate, 2) },
            ]}
          ></ja4-table>
        </section>
        <section class="card wide">
          <h2>Score drift (per hour)</h2>
          <ja4-chart
            id="model-drift-chart"
            kind="line"
            summary="mean, median and 95th percentile score per hour"
            .labels=${labels}
            .series=${[
              { label: 'mean', data: drift.map((d) => d.mean_score) },
              { label: 'p50', data: drift.map((d) => d.p50), color: '--chart-3' },
              { label: 'p95', data: drift.map((d) => d.p95), color: '--level-high' },
              { label: 'anomaly rate', data: drift.map((d) => d.anomaly_rate), color: '--level-critical' },
            ]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Voices in detections</h2>
          <ja4-chart
            id="model-voices-chart"
            kind="bar"
            color-by-point
            summary="detections per voice of the ensemble"
            .labels=${voices.map((v) => v.voice)}
            .series=${[{ label: 'detections', data: voices.map((v) => v.detections) }]}
          ></ja4-chart>
        </section>
        <section class="card">
          <h2>Scored rows per hour</h2>
          <ja4-chart
            id="model-rows-chart"
            kind="bar"
            summary="scored rows per hour"
            .labels=${labels}
            .series=${[{ label: 'rows', data: drift.map((d) => d.rows) }]}
          ></ja4-chart>
        </section>
        <section class="card wide">
          <h2>Current model manifest</h2>
          ${this.status?.manifest
            ? html`<pre class="mono" style="white-space:pre-wrap;margin:0">${JSON.stringify(this.status.manifest, null, 2)}</pre>`
            : html`<p class="muted">The server has no readable model manifest.</p>`}
        </section>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-model-page': Ja4ModelPage;
  }
}
