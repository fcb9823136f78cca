// <ja4-ticker>: the newest detections, live. It loads the latest few from
// the API, then prepends what the WebSocket pushes on its topic
// (detections, ja4:<fp> or ip:<ip>), keeping at most `limit` rows: updated
// in place, bounded, no reload. A truncated resync reloads the list.
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { feed } from '../api/live-feed.js';
import { links } from '../router/routes.js';
import { fmtScore, fmtTime, shortLabel } from '../format.js';
import type { DetectionsResponse, EventMessage, LiveDetection } from '../../../src/dashboard/api-types.js';
import './threat-badge.js';

function detectionKey(d: LiveDetection): string {
  return `${d.detected_at}|${d.client_ip}|${d.ja4}|${d.host}|${d.window}`;
}

/**
 * @cssproperty --ticker-size - font size of the rows (the wall enlarges it)
 * @fires ja4-detection - CustomEvent<LiveDetection> for every pushed detection
 */
@customElement('ja4-ticker')
export class Ja4Ticker extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-size: var(--ticker-size, 0.9rem);
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    li {
      display: grid;
      grid-template-columns: auto auto 1fr auto;
      gap: 0 12px;
      align-items: baseline;
      padding: 6px 0;
      border-bottom: 1px solid var(--border);
    }
    li.fresh {
      animation: flash 1.5s ease-out;
    }
    @keyframes flash {
      from {
        background: var(--surface-2);
      }
    }
    .when {
      color: var(--text-muted);
      font-variant-numeric: tabular-nums;
    }
    .who {
      overflow-wrap: anywhere;
    }
    a {
      color: var(--accent);
    }
    code {
      font-family: var(--mono);
      font-size: 0.9em;
    }
    .score {
      font-variant-numeric: tabular-nums;
    }
    .empty {
      color: var(--text-muted);
    }
    @media (prefers-reduced-motion: reduce) {
      li.fresh {
        animation: none;
      }
    }
  `;

  /** the WebSocket topic to follow */
  @property() topic = 'detections';
  /** /api/detections filters for the initial rows (ja4=..., ip=...) */
  @property({ attribute: false }) filter: Record<string, string> = {};
  @property({ type: Number }) limit = 10;
  @property({ type: Boolean }) links = true;
  /** shortened JA4s, for narrow cards */
  @property({ type: Boolean }) compact = false;
  /** API rows (full Detections) and pushed LiveDetections: rendered from the fields both have */
  @state() private items: LiveDetection[] = [];
  #fresh = new Set<string>();
  #unsub: (() => void) | undefined;
  #key = '';
  /** the last load failed (server or database away): retried when the feed is back */
  #loadFailed = false;
  #onStale = (): void => void this.#load();
  #onHello = (): void => {
    if (this.#loadFailed) void this.#load();
  };

  override connectedCallback(): void {
    super.connectedCallback();
    feed.addEventListener('stale', this.#onStale);
    feed.addEventListener('hello', this.#onHello);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    feed.removeEventListener('stale', this.#onStale);
    feed.removeEventListener('hello', this.#onHello);
    this.#unsub?.();
    this.#unsub = undefined;
  }

  protected override willUpdate(): void {
    // parents pass fresh filter objects on every render: compare by value
    const key = JSON.stringify([this.topic, this.filter, this.limit]);
    if (key !== this.#key || this.#unsub === undefined) {
      this.#key = key;
      this.#unsub?.();
      this.#unsub = feed.subscribe(this.topic, (ev) => this.#push(ev as EventMessage<'detections'>));
      void this.#load();
    }
  }

  async #load(): Promise<void> {
    try {
      const page = await api.get<DetectionsResponse>('/api/detections', { ...this.filter, limit: this.limit, sort: 'detected_at', order: 'desc' });
      // keep anything pushed while the request was in flight
      const seen = new Set(page.items.map(detectionKey));
      this.items = [...this.items.filter((d) => !seen.has(detectionKey(d)) && this.#fresh.has(detectionKey(d))), ...page.items].slice(0, this.limit);
      this.#loadFailed = false;
    } catch {
      // the page around the ticker shows API errors; the ticker keeps what it has
      this.#loadFailed = true;
    }
  }

  #push(ev: EventMessage<'detections'>): void {
    const d = ev.data;
    const key = detectionKey(d);
    if (this.items.some((x) => detectionKey(x) === key)) return;
    this.#fresh.add(key);
    if (this.#fresh.size > this.limit * 4) this.#fresh = new Set([...this.#fresh].slice(-this.limit));
    this.items = [d, ...this.items].slice(0, this.limit);
    this.dispatchEvent(new CustomEvent<LiveDetection>('ja4-detection', { detail: d, bubbles: true, composed: true }));
  }

  /** the full JA4 unless the ticker is narrow (a card on the overview): then its first part */
  #ja4(ja4: string): string {
    return this.compact ? shortLabel(ja4, 18) : ja4;
  }

  override render() {
    if (this.items.length === 0) return html`<p class="empty">No detections yet.</p>`;
    return html`<ol aria-live="polite" aria-label="latest detections">
      ${this.items.map((d) => {
        const key = detectionKey(d);
        return html`<li class=${this.#fresh.has(key) ? 'fresh' : ''} data-key=${key}>
          <span class="when">${fmtTime(d.detected_at).slice(11)}</span>
          <ja4-threat level=${d.threat_level}></ja4-threat>
          <span class="who">
            ${this.links ? html`<a href=${links.ip(d.client_ip)}>${d.client_ip}</a>` : d.client_ip}
            · ${this.links ? html`<a href=${links.ja4(d.ja4)} title=${d.ja4}><code>${this.#ja4(d.ja4)}</code></a>` : html`<code>${this.#ja4(d.ja4)}</code>`}
            ${d.bot_name ? html`· ${d.bot_name}` : ''} ${d.host ? html`<span class="when">→ ${d.host}</span>` : ''}
          </span>
          <span class="score">${fmtScore(d.score)}</span>
        </li>`;
      })}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-ticker': Ja4Ticker;
  }
}
