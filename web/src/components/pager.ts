// <ja4-pager>: previous/next over a server-paginated list.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** @fires ja4-page - CustomEvent<number> with the requested page (0-based) */
@customElement('ja4-pager')
export class Ja4Pager extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      gap: 8px;
      align-items: center;
      justify-content: flex-end;
      margin-top: 8px;
      font-size: 0.9em;
      color: var(--text-muted);
    }
    button {
      font: inherit;
      color: var(--text);
      background: var(--surface-2);
      border: 1px solid var(--border);
      border-radius: 6px;
      padding: 4px 10px;
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
  `;

  @property({ type: Number }) page = 0;
  @property({ type: Number, attribute: 'page-size' }) pageSize = 50;
  /** total rows when known; otherwise `has-more` decides whether Next is enabled */
  @property({ type: Number }) total: number | undefined;
  @property({ type: Boolean, attribute: 'has-more' }) hasMore = false;

  #go(page: number): void {
    this.dispatchEvent(new CustomEvent<number>('ja4-page', { detail: page, bubbles: true, composed: true }));
  }

  override render() {
    const pages = this.total === undefined ? undefined : Math.max(1, Math.ceil(this.total / this.pageSize));
    const more = pages === undefined ? this.hasMore : this.page + 1 < pages;
    return html`<button ?disabled=${this.page === 0} @click=${() => this.#go(this.page - 1)} aria-label="previous page">‹ Prev</button>
      <span aria-live="polite">Page ${this.page + 1}${pages === undefined ? '' : ` of ${pages}`}${this.total === undefined ? '' : ` · ${this.total} rows`}</span>
      <button ?disabled=${!more} @click=${() => this.#go(this.page + 1)} aria-label="next page">Next ›</button>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-pager': Ja4Pager;
  }
}
