// <ja4-kpi>: one headline number with its label.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/**
 * @cssproperty --kpi-size - the value's font size (the wall makes it huge)
 * @csspart value - the number
 */
@customElement('ja4-kpi')
export class Ja4Kpi extends LitElement {
  static override styles = css`
    :host {
      display: block;
      background: var(--surface);
      border: 1px solid var(--border);
      border-radius: var(--radius);
      padding: 12px 16px;
    }
    .label {
      color: var(--text-muted);
      font-size: 0.85em;
    }
    .value {
      font-size: var(--kpi-size, 1.8rem);
      font-weight: 650;
      font-variant-numeric: tabular-nums;
      line-height: 1.2;
      color: var(--kpi-color, var(--text));
    }
    .hint {
      color: var(--text-muted);
      font-size: 0.8em;
    }
  `;

  @property() label = '';
  @property() value = '–';
  @property() hint = '';

  override render() {
    return html`<div class="label" id="l">${this.label}</div>
      <div class="value" part="value" role="status" aria-labelledby="l">${this.value}</div>
      ${this.hint ? html`<div class="hint">${this.hint}</div>` : ''}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-kpi': Ja4Kpi;
  }
}
