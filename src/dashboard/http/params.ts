// Validation of query parameters and JSON bodies. Every check names the
// field in its message; values reach SQL only as typed query parameters.
import { engineIpFamily } from '../../storage/ip-text.js';
import { badField } from './errors.js';

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
export const MAX_OFFSET = 100_000;
export const MAX_RANGE_DAYS = 31;
const DAY_MS = 86_400_000;

/** A JA4 (a_b_c: 10 characters, 12 hex, 12 hex), the form the dashboard links. */
export const JA4_PATTERN = /^[a-z0-9]{10}_[0-9a-f]{12}_[0-9a-f]{12}$/;
/** Campaign ids are the detector's (letters, digits, - _ . :). */
export const CAMPAIGN_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface Range {
  from: Date;
  to: Date;
}

export interface PageParams {
  limit: number;
  offset: number;
}

/** 'YYYY-MM-DD hh:mm:ss.fff' (UTC), the text ClickHouse's DateTime64 parameters take. */
export function chTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

function parseTime(field: string, text: string): Date {
  const iso = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)?)?$/.exec(text);
  // times are UTC (the API's form): a date-time without a zone would be
  // read by Date.parse in the server's local time
  const ms = /^\d{10,14}$/.test(text) ? Number(text) : iso ? Date.parse(text.replace(' ', 'T') + (iso[1] !== undefined && iso[4] === undefined ? 'Z' : '')) : NaN;
  if (!Number.isFinite(ms)) throw badField(field, 'must be an ISO 8601 time or epoch milliseconds', text);
  return new Date(ms);
}

/** from/to (default: the last `defaultHours`), to after from, at most MAX_RANGE_DAYS. */
export function rangeParam(q: URLSearchParams, opts: { defaultHours?: number; maxDays?: number; now?: Date } = {}): Range {
  const now = opts.now ?? new Date();
  const toText = q.get('to');
  const fromText = q.get('from');
  const to = toText ? parseTime('to', toText) : now;
  const from = fromText ? parseTime('from', fromText) : new Date(to.getTime() - (opts.defaultHours ?? 24) * 3_600_000);
  if (from.getTime() >= to.getTime()) throw badField('from', 'must be before to', fromText ?? undefined);
  const maxDays = opts.maxDays ?? MAX_RANGE_DAYS;
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) throw badField('from', `must be at most ${maxDays} days before to`, fromText ?? undefined);
  return { from, to };
}

export function intParam(q: URLSearchParams, field: string, opts: { min: number; max: number; default: number }): number {
  const text = q.get(field);
  if (text === null || text === '') return opts.default;
  if (!/^-?\d+$/.test(text) || Number(text) < opts.min || Number(text) > opts.max) {
    throw badField(field, `must be an integer from ${opts.min} to ${opts.max}`, text);
  }
  return Number(text);
}

export function numberParam(q: URLSearchParams, field: string, opts: { min: number; max: number }): number | undefined {
  const text = q.get(field);
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!/^-?\d+(\.\d+)?$/.test(text) || n < opts.min || n > opts.max) throw badField(field, `must be a number from ${opts.min} to ${opts.max}`, text);
  return n;
}

export function pageParams(q: URLSearchParams): PageParams {
  return {
    limit: intParam(q, 'limit', { min: 1, max: MAX_LIMIT, default: DEFAULT_LIMIT }),
    offset: intParam(q, 'offset', { min: 0, max: MAX_OFFSET, default: 0 }),
  };
}

export function enumParam<T extends string>(q: URLSearchParams, field: string, allowed: readonly T[], fallback: T): T;
export function enumParam<T extends string>(q: URLSearchParams, field: string, allowed: readonly T[]): T | undefined;
export function enumParam<T extends string>(q: URLSearchParams, field: string, allowed: readonly T[], fallback?: T): T | undefined {
  const text = q.get(field);
  if (text === null || text === '') return fallback;
  return enumValue(field, text, allowed);
}

export function enumValue<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw badField(field, `must be one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** A comma-separated list of allowed values. */
export function enumListParam<T extends string>(q: URLSearchParams, field: string, allowed: readonly T[]): T[] {
  const text = q.get(field);
  if (text === null || text === '') return [];
  return [...new Set(text.split(',').map((v) => enumValue(field, v.trim(), allowed)))];
}

/** Free text with a length bound (filters that match as data, never as SQL). */
export function textParam(q: URLSearchParams, field: string, maxLength = 512): string | undefined {
  const text = q.get(field);
  if (text === null || text === '') return undefined;
  if (text.length > maxLength) throw badField(field, `must be at most ${maxLength} characters`, text);
  return text;
}

export function ja4Value(field: string, value: unknown): string {
  if (typeof value !== 'string' || !JA4_PATTERN.test(value)) throw badField(field, 'must be a JA4 fingerprint like t13d1516h2_8daaf6152771_e5627efa2ab1', value);
  return value;
}

export function ja4Param(q: URLSearchParams, field: string): string | undefined {
  const text = q.get(field);
  return text === null || text === '' ? undefined : ja4Value(field, text);
}

/**
 * An IPv4 or IPv6 address, returned in its canonical text: IPv6 compressed
 * as RFC 5952 section 4 says (the WHATWG URL serializer does it: "2001:DB8:0:0:0:0:0:1"
 * is "2001:db8::1"), IPv4-mapped IPv6 as IPv4 (also when written in hex).
 * That is the form verdicts are keyed by and the detector reports: any
 * other spelling would be stored under a key nothing ever matches. A zone
 * index (fe80::1%eth0), which isIP() takes, is refused: the engine does not.
 */
export function ipValue(field: string, value: unknown): string {
  const family = typeof value === 'string' ? engineIpFamily(value) : 0;
  if (family === 0) throw badField(field, 'must be an IPv4 or IPv6 address', value);
  if (family === 4) return value as string;
  const v = new URL(`http://[${value}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v);
  if (!mapped) return v;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function ipParam(q: URLSearchParams, field: string): string | undefined {
  const text = q.get(field);
  return text === null || text === '' ? undefined : ipValue(field, text);
}

export function campaignValue(field: string, value: unknown): string {
  if (typeof value !== 'string' || !CAMPAIGN_PATTERN.test(value)) throw badField(field, 'must be a campaign id (1 to 128 of A-Z a-z 0-9 _ . : -)', value);
  return value;
}

/** The body as a JSON object (400 otherwise). */
export function jsonBody(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badField('body', 'must be a JSON object');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badField('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

export function stringField(obj: Record<string, unknown>, field: string, opts: { min?: number; max: number; optional?: boolean }): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (opts.optional) return undefined;
    throw badField(field, 'is required');
  }
  if (typeof v !== 'string') throw badField(field, 'must be a string', v);
  if (v.length < (opts.min ?? 0) || v.length > opts.max) throw badField(field, `must be ${opts.min ?? 0} to ${opts.max} characters`, v);
  return v;
}

export function requiredString(obj: Record<string, unknown>, field: string, opts: { min?: number; max: number }): string {
  return stringField(obj, field, opts) as string;
}
