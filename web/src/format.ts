// Display formatting shared by the pages: numbers, shares, times (always
// shown in UTC, as stored, so analysts on different desks read the same
// values), durations.

const int = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : int.format(Math.round(n));
}

export function fmtCompact(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : compact.format(n);
}

export function fmtShare(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)} %`;
}

export function fmtScore(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3);
}

function toDate(v: string | number | Date): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  // ClickHouse's 'YYYY-MM-DD hh:mm:ss[.fff]' is UTC without a zone marker.
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
}

/** 2026-11-22 03:04:05 (UTC) */
export function fmtTime(v: string | number | Date | null | undefined): string {
  if (v === null || v === undefined || v === '') return '–';
  const d = toDate(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().slice(0, 19).replace('T', ' ');
}

/** 03:04 for chart axes; with the day when the range spans days */
export function fmtBucket(v: string | number | Date, withDay = false): string {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const iso = d.toISOString();
  return withDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** The time range pickers' choices, in hours. */
export const RANGES: readonly { hours: number; label: string }[] = [
  { hours: 1, label: '1 h' },
  { hours: 6, label: '6 h' },
  { hours: 24, label: '24 h' },
  { hours: 24 * 7, label: '7 d' },
];

/** a long label (a JA4, a user agent) shortened for a chart axis; the full text stays in the table */
export function shortLabel(text: string, max = 16): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** the theme colour of a threat level or a label */
export function levelColor(level: string): string {
  return level === 'critical' ? '--level-critical' : level === 'high' || level === 'bot' ? '--level-high' : level === 'medium' ? '--level-medium' : '--level-low';
}
