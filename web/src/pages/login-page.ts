// The login form. After a successful login it returns to the page the user
// was sent away from (?next=, same-origin paths only).
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { router } from '../router/router.js';
import type { Route } from '../router/routes.js';
import { pageStyles } from '../components/shared-styles.js';
import { errorText } from './page-base.js';

/** only a local path: an open redirect to another site must not be possible */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

@customElement('ja4-login-page')
export class Ja4LoginPage extends LitElement {
  static override styles = [
    pageStyles,
    css`
      :host {
        display: grid;
        place-items: center;
        min-height: 90vh;
      }
      form {
        width: min(340px, 90vw);
        display: flex;
        flex-direction: column;
        gap: 12px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 4px;
        color: var(--text-muted);
        font-size: 0.9em;
      }
    `,
  ];

  @property({ attribute: false }) route!: Route;
  @state() private error = '';
  @state() private busy = false;

  override render() {
    return html`<form class="card" @submit=${(e: SubmitEvent) => this.#submit(e)} aria-labelledby="t">
      <h1 id="t">JA4 dashboard</h1>
      <label>User name <input name="username" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      <button class="primary" type="submit" ?disabled=${this.busy}>Log in</button>
    </form>`;
  }

  async #submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      await api.login({ username: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') });
      router.navigate(safeNext(this.route.query.get('next')), { replace: true });
    } catch (err) {
      this.error = errorText(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-login-page': Ja4LoginPage;
  }
}
