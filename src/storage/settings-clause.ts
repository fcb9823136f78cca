// A statement's settings written into the statement itself.
//
// Why: chDB's connection (chdb/connection) turns a request's
// `clickhouse_settings` into `SET k = v;` statements run before it, in the
// process's one session, so they stay for every later statement: an
// insert's deduplication token made every later insert without one into a
// table with a deduplication window a "duplicate", silently dropped, and a
// dashboard read's memory cap would have capped the ingest. A SETTINGS
// clause applies to its own statement only; with a ClickHouse server it
// means what the request's settings mean.
import type { ClickHouseSettings } from '@clickhouse/client';

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `SETTINGS a = 1, b = 'x'` (names checked, strings quoted), or '' when there are none. */
export function settingsClause(settings: ClickHouseSettings | undefined): string {
  if (!settings) return '';
  const items = Object.entries(settings)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (!SETTING_NAME.test(k)) throw new Error(`invalid setting name ${JSON.stringify(k)}`);
      const value = typeof v === 'number' ? String(v) : typeof v === 'boolean' ? (v ? '1' : '0') : `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      return `${k} = ${value}`;
    });
  return items.length === 0 ? '' : `SETTINGS ${items.join(', ')}`;
}

/**
 * `sql` with `settings` as its last clause: on a new line (its last line may
 * be a -- comment), after a trailing ';' is taken off.
 */
export function withSettings(sql: string, settings: ClickHouseSettings | undefined): string {
  const clause = settingsClause(settings);
  return clause === '' ? sql : `${sql.replace(/[\s;]+$/, '')}\n${clause}`;
}
