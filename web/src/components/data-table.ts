// <ja4-table>: rows in, a sortable, selectable table out. Sorting is either
// done here (client-sort, for small bounded lists) or announced with a
// `ja4-sort` event so the page asks the server (paginated lists).
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

export interface Column<R> {
  key: string;
  label: string;
  sortable?: boolean;
  numeric?: boolean;
  /** cell content; default: the row's value at `key` */
  render?: (row: R) => TemplateResult | string | number;
}

export type SortDir = 'asc' | 'desc';
export interface SortChange {
  key: string;
  dir: SortDir;
}

/**
 * @fires ja4-sort - CustomEvent<SortChange> when a sortable header is activated
 * @fires ja4-selection - CustomEvent<string[]> with the selected row keys
 */
@customElement('ja4-table')
export class Ja4Table<R extends object = Record<string, unknown>> extends LitElement {
  static override styles = css`
    :host {
      display: block;
      overflow-x: auto;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-size: 0.9em;
    }
    th,
    td {
      text-align: left;
      padding: 6px 8px;
      border-bottom: 1px solid var(--border);
      vertical-align: top;
    }
    th {
      color: var(--text-muted);
      font-weight: 600;
      white-space: nowrap;
    }
    td.num,
    th.num {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    th button {
      all: unset;
      cursor: pointer;
    }
    th button:focus-visible {
      outline: 3px solid var(--focus);
    }
    tbody tr:hover {
      background: var(--surface-2);
    }
    .empty {
      color: var(--text-muted);
      padding: 12px 8px;
    }
    a {
      color: var(--accent);
    }
    code {
      font-family: var(--mono);
      font-size: 0.95em;
    }
  `;

  @property({ attribute: false }) columns: Column<R>[] = [];
  @property({ attribute: false }) rows: R[] = [];
  /** caption read by screen readers */
  @property() caption = '';
  @property({ type: Boolean, attribute: 'client-sort' }) clientSort = false;
  @property({ attribute: false }) sort: SortChange | undefined;
  /** with a key function, rows get checkboxes */
  @property({ attribute: false }) rowKey: ((row: R) => string) | undefined;
  @state() private selected = new Set<string>();

  /** the selected rows' keys */
  get selection(): string[] {
    return [...this.selected];
  }

  clearSelection(): void {
    this.selected = new Set();
    this.#announceSelection();
  }

  #value(row: R, key: string): unknown {
    return (row as Record<string, unknown>)[key];
  }

  #sorted(): R[] {
    if (!this.clientSort || this.sort === undefined) return this.rows;
    const { key, dir } = this.sort;
    const sign = dir === 'asc' ? 1 : -1;
    return [...this.rows].sort((a, b) => {
      const x = this.#value(a, key);
      const y = this.#value(b, key);
      if (typeof x === 'number' && typeof y === 'number') return (x - y) * sign;
      return String(x ?? '').localeCompare(String(y ?? '')) * sign;
    });
  }

  #onSort(key: string): void {
    const dir: SortDir = this.sort?.key === key && this.sort.dir === 'desc' ? 'asc' : 'desc';
    this.sort = { key, dir };
    this.dispatchEvent(new CustomEvent<SortChange>('ja4-sort', { detail: { key, dir }, bubbles: true, composed: true }));
  }

  #toggle(key: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(key);
    else next.delete(key);
    this.selected = next;
    this.#announceSelection();
  }

  #toggleAll(on: boolean): void {
    const keyOf = this.rowKey;
    this.selected = on && keyOf ? new Set(this.rows.map((r) => keyOf(r))) : new Set();
    this.#announceSelection();
  }

  #announceSelection(): void {
    this.dispatchEvent(new CustomEvent<string[]>('ja4-selection', { detail: this.selection, bubbles: true, composed: true }));
  }

  override render() {
    const keyOf = this.rowKey;
    const rows = this.#sorted();
    return html`<table>
      ${this.caption ? html`<caption class="muted" style="text-align:left">${this.caption}</caption>` : nothing}
      <thead>
        <tr>
          ${keyOf
            ? html`<th><input type="checkbox" aria-label="select all rows" .checked=${rows.length > 0 && this.selected.size === rows.length} @change=${(e: Event) => this.#toggleAll((e.target as HTMLInputElement).checked)} /></th>`
            : nothing}
          ${this.columns.map((c) => {
            const sorted = this.sort?.key === c.key ? this.sort.dir : undefined;
            const aria = sorted === undefined ? 'none' : sorted === 'asc' ? 'ascending' : 'descending';
            return html`<th class=${c.numeric ? 'num' : ''} aria-sort=${c.sortable ? aria : nothing} scope="col">
              ${c.sortable
                ? html`<button @click=${() => this.#onSort(c.key)}>${c.label}${sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</button>`
                : c.label}
            </th>`;
          })}
        </tr>
      </thead>
      <tbody>
        ${rows.length === 0
          ? html`<tr><td class="empty" colspan=${this.columns.length + (keyOf ? 1 : 0)}>No rows</td></tr>`
          : rows.map((row) => {
              const k = keyOf?.(row);
              return html`<tr>
                ${k !== undefined
                  ? html`<td><input type="checkbox" aria-label=${`select ${k}`} .checked=${this.selected.has(k)} @change=${(e: Event) => this.#toggle(k, (e.target as HTMLInputElement).checked)} /></td>`
                  : nothing}
                ${this.columns.map((c) => html`<td class=${c.numeric ? 'num' : ''}>${c.render ? c.render(row) : String(this.#value(row, c.key) ?? '')}</td>`)}
              </tr>`;
            })}
      </tbody>
    </table>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-table': Ja4Table;
  }
}
