// The HTTP log rows as a table: the log explorer, and the JA4 and IP pages'
// "its requests" sections show the same columns.
import { html } from 'lit';
import { fmtTime } from '../format.js';
import { links } from '../router/routes.js';
import type { HttpLogRow } from '../../../src/dashboard/api-types.js';
import './data-table.js';

export function renderLogTable(rows: HttpLogRow[]) {
  return html`<ja4-table
    caption="HTTP requests, newest first"
    .rows=${rows}
    .columns=${[
      { key: 'ts', label: 'Time (UTC)', render: (r: HttpLogRow) => fmtTime(r.ts) },
      { key: 'client_ip', label: 'Client IP', render: (r: HttpLogRow) => html`<a href=${links.ip(r.client_ip)}>${r.client_ip}</a>` },
      { key: 'method', label: 'Method' },
      { key: 'host', label: 'Host' },
      { key: 'path', label: 'Path', render: (r: HttpLogRow) => html`<code>${r.path}${r.query ? `?${r.query}` : ''}</code>` },
      { key: 'status', label: 'Status', numeric: true },
      { key: 'protocol', label: 'Protocol' },
      { key: 'ja4', label: 'JA4', render: (r: HttpLogRow) => (r.ja4 ? html`<a href=${links.ja4(r.ja4)}><code>${r.ja4}</code></a>` : '') },
      { key: 'user_agent', label: 'User agent', render: (r: HttpLogRow) => html`<code>${r.user_agent}</code>` },
      { key: 'country', label: 'Country' },
      { key: 'correlation_status', label: 'Correlation' },
    ]}
  ></ja4-table>`;
}
