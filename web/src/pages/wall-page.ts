// The live wall (/wall): a SOC screen. Full screen, always dark, type sized
// for reading across a room, no interaction. Figures update in place from
// the WebSocket (`kpis`, `detections`); when the server or the network goes
// away the feed reconnects with backoff and resyncs from its last sequence
// number (api/live-feed.ts), and the wall shows that it is reconnecting
// instead of showing stale numbers as current. Opened with #token= (a
// read-only wall token, in the fragment: never sent to a server) it needs
// no login.
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { feed, TopicController, type FeedStatus } from '../api/live-feed.js';
import { fmtInt, fmtShare } from '../format.js';
import type { Route } from '../router/routes.js';
import { THREAT_LEVELS, type EventMessage, type KpisEvent, type OverviewResponse, type ThreatLevel } from '../../../src/dashboard/api-types.js';

/** a full reload of the figures this often, in case a kpis push was missed */
const REFRESH_MS = 5 * 60_000;

@customElement('ja4-wall-page')
export class Ja4WallPage extends LitElement {
  static override styles = css`
    :host {
      /* the wall is dark whatever the user's theme */
      --bg: #07090d;
      --surface: #10141b;
      --surface-2: #1a202a;
      --border: #252d3a;
      --text: #f2f4f8;
      --text-muted: #9aa3b2;
      --accent: #7fb0ff;
      --level-low: #66bb6a;
      --level-medium: #f2c94c;
      --level-high: #ff9248;
      --level-critical: #ff4d4d;
      display: grid;
      grid-template-rows: auto auto 1fr;
      gap: 2vh;
      box-sizing: border-box;
      min-height: 100vh;
      padding: 2vh 2vw;
      background: var(--bg);
      color: var(--text);
      font-size: clamp(16px, 1.6vw, 40px);
      cursor: none;
    }
    header {
      display: flex;
      justify-content: space-between;
      align-items: baseline;
    }
    h1 {
      margin: 0;
      font-size: 1.6em;
      letter-spacing: 0.02em;
    }
    .clock {
      font-size: 1.6em;
      font-variant-numeric: tabular-nums;
    }
    .status {
      font-size: 0.8em;
      color: var(--level-low);
      border: 1px solid currentColor;
      border-radius: 999px;
      padding: 0.1em 0.8em;
    }
    .status.closed,
    .status.connecting {
      color: var(--level-medium);
    }
    .kpis {
      display: grid;
      /* one row of seven figures on a landscape screen */
      grid-template-columns: repeat(7, minmax(0, 1fr));
      gap: 1.2vw;
      /* sized by the screen's width: seven figures must fit on one row */
      --kpi-size: min(2.6em, 3.6vw);
      white-space: nowrap;
    }
    @media (max-aspect-ratio: 4/3) {
      .kpis {
        grid-template-columns: repeat(4, minmax(0, 1fr));
      }
    }
    ja4-kpi {
      font-size: 1em;
    }
    ja4-kpi.critical {
      --kpi-color: var(--level-critical);
    }
    ja4-kpi.high {
      --kpi-color: var(--level-high);
    }
    ja4-kpi.medium {
      --kpi-color: var(--level-medium);
    }
    ja4-kpi.low {
      --kpi-color: var(--level-low);
    }
    section {
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: 12px;
      padding: 1.5vh 1.5vw;
      overflow: hidden;
    }
    h2 {
      margin: 0 0 1vh;
      font-size: 1em;
      color: var(--text-muted);
      font-weight: 600;
    }
    ja4-ticker {
      --ticker-size: 1.15em;
    }
    :host([stale]) .kpis,
    :host([stale]) ja4-ticker {
      opacity: 0.55;
    }
  `;

  @property({ attribute: false }) route!: Route;
  /** set while the feed is down: the figures are greyed out */
  @property({ type: Boolean, reflect: true }) stale = false;
  @state() private overview: OverviewResponse | undefined;
  @state() private live: KpisEvent | undefined;
  /** detections pushed since the last kpis event, by level (the wall reacts before the next kpis push) */
  @state() private pending: Partial<Record<ThreatLevel, number>> = {};
  @state() private now = new Date();
  @state() private status: FeedStatus = feed.status;
  #timers: ReturnType<typeof setInterval>[] = [];
  #onStatus = (e: Event): void => {
    this.status = (e as CustomEvent<FeedStatus>).detail;
    this.stale = this.status !== 'open';
  };
  #onHello = (): void => void this.#load();

  constructor() {
    super();
    new TopicController(this, () => ['kpis'], (ev) => {
      this.live = (ev as EventMessage<'kpis'>).data;
      this.pending = {};
    });
    new TopicController(this, () => ['detections'], (ev) => {
      const d = (ev as EventMessage<'detections'>).data;
      this.pending = { ...this.pending, [d.threat_level]: (this.pending[d.threat_level] ?? 0) + 1 };
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    feed.addEventListener('status', this.#onStatus);
    feed.addEventListener('hello', this.#onHello);
    feed.addEventListener('stale', this.#onHello);
    this.status = feed.status;
    this.#timers.push(setInterval(() => (this.now = new Date()), 1000));
    this.#timers.push(setInterval(() => void this.#load(), REFRESH_MS));
    void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    feed.removeEventListener('status', this.#onStatus);
    feed.removeEventListener('hello', this.#onHello);
    feed.removeEventListener('stale', this.#onHello);
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  async #load(): Promise<void> {
    const to = Date.now();
    try {
      this.overview = await api.get<OverviewResponse>('/api/overview', { from: new Date(to - 3_600_000).toISOString(), to: new Date(to).toISOString() });
      this.pending = {};
    } catch {
      // the feed status line says the server is away; keep the last figures
    }
  }

  #levelCount(level: ThreatLevel): number {
    const base = this.live
      ? (this.live.detections_by_level.find((x) => x.threat_level === level)?.detections ?? 0)
      : (this.overview?.detections_by_level.find((x) => x.threat_level === level)?.detections ?? 0);
    return base + (this.pending[level] ?? 0);
  }

  override render() {
    const pendingTotal = Object.values(this.pending).reduce((n, x) => n + (x ?? 0), 0);
    const detectionsHour = (this.live?.detections_last_hour ?? this.overview?.kpis.detections ?? 0) + pendingTotal;
    const botShare = this.live?.bot_share ?? this.overview?.kpis.bot_share;
    const statusText = this.status === 'open' ? 'live' : this.status === 'connecting' ? 'reconnecting…' : 'connection lost, retrying…';
    return html`<header>
        <h1>JA4 · live</h1>
        <span class="status ${this.status}" role="status" aria-live="polite">${statusText}</span>
        <span class="clock">${this.now.toISOString().slice(11, 19)} UTC</span>
      </header>
      <div class="kpis">
        <ja4-kpi label="Requests / min" value=${this.live ? fmtInt(this.live.requests_per_minute) : fmtInt((this.overview?.kpis.total_requests ?? NaN) / 60)}></ja4-kpi>
        <ja4-kpi id="wall-detections" label="Detections (1 h)" value=${fmtInt(detectionsHour)}></ja4-kpi>
        <ja4-kpi label="Bot share" value=${fmtShare(botShare, 0)}></ja4-kpi>
        ${[...THREAT_LEVELS].reverse().map((l) => html`<ja4-kpi class=${l} label=${l} value=${fmtInt(this.#levelCount(l))}></ja4-kpi>`)}
      </div>
      <section>
        <h2>Latest detections</h2>
        <ja4-ticker topic="detections" limit="10" .links=${false}></ja4-ticker>
      </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-wall-page': Ja4WallPage;
  }
}
