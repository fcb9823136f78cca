// Small helpers shared by the route modules' queries.
import type { ClickHouseSettings } from '@clickhouse/client';
import type { Storage } from '../storage/index.js';
import { chTime, type Range } from './http/params.js';

/**
 * Times as ISO 8601 (UTC, 'Z'), the API's form; and a time limit, so that
 * one expensive read (a wide range, an export) cannot hold the database
 * for ever (the dashboard's database user has readonly = 2: it may set it).
 * The memory cap is added by scopedReads().
 */
export const API_SETTINGS = { date_time_output_format: 'iso', max_execution_time: 30 } as const;

export function select<T>(storage: Storage, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return storage.query<T>(sql, params, API_SETTINGS);
}

/** dashboard.max_query_memory_mb's default: 2 GiB. */
export const DEFAULT_MAX_QUERY_MEMORY_BYTES = 2048 * 1024 * 1024;

/**
 * The Storage the dashboard reads through: each query's settings are the
 * caller's plus `extra` (the memory cap), scoped to that query by the
 * Storage (storage/settings-clause.ts: a dashboard memory cap must not cap
 * the ingest). The cap matters because the embedded engine runs in this process, next to
 * the ingest under `ja4 run`: one heavy investigation query could otherwise
 * take the machine's memory. Writes pass through unchanged.
 */
export function scopedReads(storage: Storage, extra: ClickHouseSettings): Storage {
  return {
    mode: storage.mode,
    options: storage.options,
    tables: storage.tables,
    client: storage.client,
    // the Storage puts them in the query's SETTINGS clause (storage/settings-clause.ts)
    query: (sql, params, settings) => storage.query(sql, params, { ...settings, ...extra }),
    command: (sql, params, settings) => storage.command(sql, params, settings),
    insertRows: (table, rows, settings) => storage.insertRows(table, rows, settings),
    insertEncoded: (table, body, format, settings, columns) => storage.insertEncoded(table, body, format, settings, columns),
    // the dashboard does not own the Storage: whoever opened it closes it
    close: async () => undefined,
  };
}

/** The engine refused a query for memory (ClickHouse MEMORY_LIMIT_EXCEEDED, code 241). */
export function isMemoryLimit(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const { code, type } = e as Error & { code?: unknown; type?: unknown };
    if (type === 'MEMORY_LIMIT_EXCEEDED' || code === '241' || code === 241) return true;
  }
  return false;
}

/** An IPv6 column as text, IPv4-mapped addresses as dotted quads. */
export function ipText(column: string): string {
  return `replaceRegexpOne(toString(${column}), '^::ffff:(\\\\d+\\\\.\\\\d+\\\\.\\\\d+\\\\.\\\\d+)$', '\\\\1')`;
}

export function rangeParams(r: Range): { from: string; to: string } {
  return { from: chTime(r.from), to: chTime(r.to) };
}

/** Second-resolution bounds for DateTime (hourly aggregate) columns. */
export function hourRangeParams(r: Range): { from: string; to: string } {
  return { from: chTime(r.from).slice(0, 19), to: chTime(r.to).slice(0, 19) };
}

export const HOURS = "hour >= toStartOfHour({from:DateTime('UTC')}) AND hour < {to:DateTime('UTC')}";
export const DETECTED = "detected_at >= {from:DateTime64(3, 'UTC')} AND detected_at < {to:DateTime64(3, 'UTC')}";
export const TS = "ts >= {from:DateTime64(6, 'UTC')} AND ts < {to:DateTime64(6, 'UTC')}";

/** limit+1 rows fetched; the extra one only says there is more. */
export function toPage<T>(rows: T[], limit: number, offset: number, total: number | null = null): { items: T[]; limit: number; offset: number; has_more: boolean; total: number | null } {
  return { items: rows.slice(0, limit), limit, offset, has_more: rows.length > limit, total };
}
