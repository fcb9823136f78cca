// Small helpers shared by the route modules' queries.
import type { Storage } from '../storage/index.js';
import { chTime, type Range } from './http/params.js';

/**
 * Times as ISO 8601 (UTC, 'Z'), the API's form; and a time limit, so that
 * one expensive read (a wide range, an export) cannot hold the database
 * for ever (the dashboard's database user has readonly = 2: it may set it).
 */
export const API_SETTINGS = { date_time_output_format: 'iso', max_execution_time: 30 } as const;

export function select<T>(storage: Storage, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return storage.query<T>(sql, params, API_SETTINGS);
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
