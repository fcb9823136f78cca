// <ja4-classify>: the analyst action. A button opens a modal <dialog> to
// label one subject (an IP, a JA4, a campaign) or several (bulk: the
// selected members of a campaign) as bot / human / whitelisted with a note.
// The request carries the session's CSRF token (api client); the server
// writes analyst_classifications (the detector's supervised voice) and the
// audit trail.
import { LitElement, css, html } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { pageStyles } from './shared-styles.js';
import { errorText } from '../pages/page-base.js';
import {
  CLASSIFICATION_LABELS,
  type BulkClassifyRequest,
  type BulkClassifyResponse,
  type ClassificationLabel,
  type ClassifyRequest,
  type ClassifyResponse,
  type SubjectType,
} from '../../../src/dashboard/api-types.js';

const SUBJECT_NAMES: Record<SubjectType, string> = { ip: 'IP', ja4: 'JA4', campaign: 'campaign' };

export interface ClassifiedDetail {
  subject_type: SubjectType;
  subjects: string[];
  label: ClassificationLabel;
}

/** @fires ja4-classified - CustomEvent<ClassifiedDetail> after the server accepted it */
@customElement('ja4-classify')
export class Ja4Classify extends LitElement {
  static override styles = [
    pageStyles,
    css`
      :host {
        display: inline-block;
        padding: 0;
        font-size: 0.9rem;
        font-weight: normal;
      }
      dialog {
        background: var(--surface);
        color: var(--text);
        border: 1px solid var(--border);
        border-radius: var(--radius);
        min-width: min(420px, 90vw);
      }
      dialog::backdrop {
        background: rgba(0, 0, 0, 0.5);
      }
      fieldset {
        border: none;
        padding: 0;
        margin: 0 0 12px;
        display: flex;
        gap: 16px;
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 80px;
      }
      .actions {
        display: flex;
        justify-content: flex-end;
        gap: 8px;
        margin-top: 12px;
      }
    `,
  ];

  @property({ attribute: 'subject-type' }) subjectType: SubjectType = 'ip';
  /** one subject; or set `subjects` for a bulk classification */
  @property() subject = '';
  @property({ attribute: false }) subjects: string[] = [];
  @property() label = 'Classify';
  @state() private error = '';
  @state() private busy = false;
  @query('dialog') private dialog!: HTMLDialogElement;
  @query('form') private form!: HTMLFormElement;

  get #targets(): string[] {
    return this.subjects.length > 0 ? this.subjects : this.subject ? [this.subject] : [];
  }

  override render() {
    const targets = this.#targets;
    const noun = SUBJECT_NAMES[this.subjectType];
    const title = targets.length === 1 ? html`Classify ${noun} <code>${targets[0]}</code>` : html`Classify ${targets.length} ${noun}s`;
    return html`<button class="primary" ?disabled=${targets.length === 0} @click=${() => this.#open()}>${this.label}</button>
      <dialog aria-labelledby="title" @close=${() => (this.error = '')}>
        <form method="dialog" @submit=${(e: SubmitEvent) => this.#submit(e)}>
          <h2 id="title">${title}</h2>
          <fieldset>
            <legend class="muted">Label</legend>
            ${CLASSIFICATION_LABELS.map(
              (l, i) => html`<label><input type="radio" name="label" value=${l} ?checked=${i === 0} required /> ${l}</label>`,
            )}
          </fieldset>
          <label for="note" class="muted">Note</label>
          <textarea id="note" name="note" maxlength="2000" placeholder="Why (kept in the audit trail)"></textarea>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
          <div class="actions">
            <button type="button" @click=${() => this.dialog.close()}>Cancel</button>
            <button type="submit" class="primary" ?disabled=${this.busy}>Save</button>
          </div>
        </form>
      </dialog>`;
  }

  #open(): void {
    this.form.reset();
    this.error = '';
    this.dialog.showModal();
  }

  async #submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const data = new FormData(this.form);
    const label = String(data.get('label')) as ClassificationLabel;
    const note = String(data.get('note') ?? '');
    const subjects = this.#targets;
    this.busy = true;
    try {
      if (subjects.length === 1) {
        const req: ClassifyRequest = { subject_type: this.subjectType, subject: subjects[0]!, label, note };
        await api.post<ClassifyResponse>('/api/classifications', req);
      } else {
        const req: BulkClassifyRequest = { subject_type: this.subjectType, subjects, label, note };
        await api.post<BulkClassifyResponse>('/api/classifications/bulk', req);
      }
      this.dialog.close();
      this.dispatchEvent(
        new CustomEvent<ClassifiedDetail>('ja4-classified', { detail: { subject_type: this.subjectType, subjects, label }, bubbles: true, composed: true }),
      );
    } catch (err) {
      this.error = errorText(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-classify': Ja4Classify;
  }
}
