// Any path the router does not know.
import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Route } from '../router/routes.js';
import { pageStyles } from '../components/shared-styles.js';

@customElement('ja4-not-found-page')
export class Ja4NotFoundPage extends LitElement {
  static override styles = [pageStyles];
  @property({ attribute: false }) route!: Route;

  override render() {
    return html`<h1>Not found</h1>
      <p>No page at <code>${this.route.path}</code>. <a href="/">Back to the overview</a>.</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-not-found-page': Ja4NotFoundPage;
  }
}
