// <ja4-threat>: a threat level (low | medium | high | critical) or a label
// (bot | human | whitelisted) as a coloured badge; text, not colour alone,
// carries the meaning.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

@customElement('ja4-threat')
export class Ja4Threat extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
    }
    span {
      display: inline-block;
      padding: 1px 8px;
      border-radius: 999px;
      font-size: 0.8em;
      font-weight: 600;
      border: 1px solid currentColor;
      white-space: nowrap;
    }
    .low,
    .human,
    .whitelisted {
      color: var(--level-low);
    }
    .medium {
      color: var(--level-medium);
    }
    .high,
    .bot {
      color: var(--level-high);
    }
    .critical {
      color: var(--level-critical);
    }
  `;

  @property() level = '';

  override render() {
    return this.level ? html`<span class=${this.level}>${this.level}</span>` : html``;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-threat': Ja4Threat;
  }
}
