// <ja4-chart>: one chart.js chart driven by properties. The chart is created
// once (first update), then only its data or colours change in place
// (updated), and it is destroyed with the element (disconnectedCallback),
// so a live page updating every second allocates no new charts.
import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { Chart } from './chart-setup.js';
import type { ChartConfiguration, ChartType } from 'chart.js';

export type Ja4ChartKind = 'line' | 'bar' | 'hbar' | 'doughnut' | 'pie';

export interface Ja4ChartSeries {
  label: string;
  data: number[];
  /** a theme colour name (--chart-N, --level-high...) or a CSS colour; default: the palette in order */
  color?: string;
  /** one colour per point (theme names or CSS colours), e.g. threat levels on a pie */
  colors?: string[];
}

const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'];

/**
 * @cssproperty --chart-height - the plot's height (default 240px)
 * @csspart canvas - the drawing surface
 */
@customElement('ja4-chart')
export class Ja4Chart extends LitElement {
  static override styles = css`
    :host {
      display: block;
      position: relative;
      height: var(--chart-height, 240px);
    }
    canvas {
      display: block;
    }
    .empty {
      position: absolute;
      inset: 0;
      display: grid;
      place-items: center;
      color: var(--text-muted);
      font-size: 0.9em;
    }
  `;

  @property() kind: Ja4ChartKind = 'line';
  @property({ type: Array }) labels: string[] = [];
  @property({ type: Array }) series: Ja4ChartSeries[] = [];
  /** accessible description of what the chart shows */
  @property() summary = '';
  @property({ type: Boolean }) stacked = false;
  /** one colour per slice/bar instead of per series (pies, top-N bars) */
  @property({ type: Boolean, attribute: 'color-by-point' }) colorByPoint = false;

  @query('canvas') private canvas!: HTMLCanvasElement;
  #chart: Chart | undefined;
  #onTheme = (): void => this.#restyle();

  /** the chart.js instance (tests read its data points) */
  get chart(): Chart | undefined {
    return this.#chart;
  }

  /** number of data points drawn, across all series */
  get pointCount(): number {
    return this.series.reduce((n, s) => n + s.data.length, 0);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('ja4-theme-changed', this.#onTheme);
    // re-attached after a destroy: the next update draws a new chart
    if (this.hasUpdated && this.#chart === undefined) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('ja4-theme-changed', this.#onTheme);
    this.#chart?.destroy();
    this.#chart = undefined;
  }

  override render() {
    const empty = this.pointCount === 0;
    return html`<canvas part="canvas" role="img" aria-label=${this.summary || `${this.kind} chart`}></canvas>
      ${empty ? html`<div class="empty">No data</div>` : ''}`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    this.setAttribute('data-points', String(this.pointCount));
    if (this.#chart === undefined || changed.has('kind') || changed.has('stacked')) {
      // first render after a re-attach, or a change chart.js cannot morph
      this.#chart?.destroy();
      this.#chart = new Chart(this.canvas, this.#config());
      return;
    }
    if (changed.has('labels') || changed.has('series') || changed.has('colorByPoint')) {
      const { data } = this.#config();
      this.#chart.data.labels = data.labels;
      // Same number of series: mutate the datasets so chart.js animates in place.
      if (this.#chart.data.datasets.length === data.datasets.length) {
        data.datasets.forEach((ds, i) => Object.assign(this.#chart!.data.datasets[i]!, ds));
      } else {
        this.#chart.data.datasets = data.datasets;
      }
      this.#chart.update();
    }
  }

  #color(name: string | undefined, i: number): string {
    const token = name ?? PALETTE[i % PALETTE.length]!;
    if (!token.startsWith('--')) return token;
    return getComputedStyle(this).getPropertyValue(token).trim() || '#888';
  }

  #restyle(): void {
    if (this.#chart === undefined) return;
    this.#chart.destroy();
    this.#chart = new Chart(this.canvas, this.#config());
  }

  #config(): ChartConfiguration<ChartType, number[], string> {
    const round = this.kind === 'doughnut' || this.kind === 'pie';
    const text = this.#color('--text-muted', 0);
    const grid = this.#color('--chart-grid', 0);
    const datasets = this.series.map((s, i) => {
      const color = this.#color(s.color, i);
      const perPoint = s.colors ? s.colors.map((c, j) => this.#color(c, j)) : round || this.colorByPoint ? s.data.map((_, j) => this.#color(undefined, j)) : color;
      return {
        label: s.label,
        data: s.data,
        backgroundColor: this.kind === 'line' ? `${color}33` : perPoint,
        borderColor: round ? this.#color('--surface', 0) : color,
        borderWidth: this.kind === 'line' ? 2 : round ? 2 : 0,
        pointRadius: this.kind === 'line' && s.data.length > 40 ? 0 : 2,
        fill: this.kind === 'line' && this.series.length === 1,
        tension: 0.25,
      };
    });
    const type: ChartType = this.kind === 'hbar' ? 'bar' : this.kind;
    const scales = round
      ? {}
      : {
          x: { stacked: this.stacked, ticks: { color: text, maxRotation: 0, autoSkip: true }, grid: { color: grid } },
          y: { stacked: this.stacked, beginAtZero: true, ticks: { color: text }, grid: { color: grid } },
        };
    return {
      type,
      data: { labels: [...this.labels], datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : 250 },
        indexAxis: this.kind === 'hbar' ? 'y' : 'x',
        plugins: {
          legend: { display: round || this.series.length > 1, position: round ? 'right' : 'top', labels: { color: text, boxWidth: 12 } },
          tooltip: { enabled: true },
        },
        scales,
      },
    } as ChartConfiguration<ChartType, number[], string>;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-chart': Ja4Chart;
  }
}
