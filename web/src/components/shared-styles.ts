// Styles every page shares (cards, grids, headings, buttons, form controls).
// Adopted by each component's shadow root; values come from the theme's
// custom properties so both themes apply everywhere.
import { css } from 'lit';

export const pageStyles = css`
  :host {
    display: block;
    padding: var(--gap);
    box-sizing: border-box;
  }
  h1 {
    font-size: 1.4rem;
    margin: 0 0 var(--gap);
    display: flex;
    align-items: center;
    gap: 12px;
    flex-wrap: wrap;
  }
  h1 code {
    font-size: 1.05rem;
  }
  h2 {
    font-size: 1rem;
    margin: 0 0 8px;
    color: var(--text-muted);
    font-weight: 600;
  }
  .grid {
    display: grid;
    gap: var(--gap);
    grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
    margin-bottom: var(--gap);
  }
  .kpis {
    display: grid;
    gap: var(--gap);
    grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
    margin-bottom: var(--gap);
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    padding: 12px 16px;
    min-width: 0;
  }
  .wide {
    grid-column: 1 / -1;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    align-items: end;
    margin-bottom: var(--gap);
  }
  .toolbar label {
    display: flex;
    flex-direction: column;
    font-size: 0.8rem;
    color: var(--text-muted);
    gap: 2px;
  }
  input,
  select,
  textarea,
  button {
    font: inherit;
    color: var(--text);
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: 6px;
    padding: 5px 8px;
  }
  button {
    cursor: pointer;
    background: var(--surface-2);
  }
  button.primary {
    background: var(--accent);
    color: var(--accent-text);
    border-color: var(--accent);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  a {
    color: var(--accent);
  }
  code,
  .mono {
    font-family: var(--mono);
    font-size: 0.9em;
    overflow-wrap: anywhere;
  }
  .muted {
    color: var(--text-muted);
  }
  .error {
    color: var(--danger);
    margin: 8px 0;
  }
  dl.facts {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 4px 16px;
    margin: 0;
  }
  dl.facts dt {
    color: var(--text-muted);
  }
  dl.facts dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  ul.plain {
    list-style: none;
    padding: 0;
    margin: 0;
  }
`;
