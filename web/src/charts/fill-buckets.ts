// Timelines come back with only the buckets that have rows; a chart of them
// would join distant points with a straight line (or show one lonely dot).
// This puts every bucket of the window on the axis, with zeros where the
// server had nothing. Buckets are multiples of their size since the epoch,
// as ClickHouse's toStartOfInterval makes them for the sizes the pages ask.

/** At most this many buckets are made (a wrong size must not hang the page). */
const MAX_BUCKETS = 2000;

export function fillBuckets<T extends { bucket: string }>(
  points: readonly T[],
  range: { from: string; to: string },
  bucketMinutes: number,
  empty: (bucket: string) => T,
): T[] {
  const size = bucketMinutes * 60_000;
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  if (!(size > 0) || !Number.isFinite(from) || !Number.isFinite(to) || (to - from) / size > MAX_BUCKETS) return [...points];
  const byTime = new Map<number, T>();
  for (const p of points) byTime.set(Date.parse(p.bucket), p);
  const out: T[] = [];
  for (let b = Math.floor(from / size) * size; b < to; b += size) {
    out.push(byTime.get(b) ?? empty(new Date(b).toISOString()));
    byTime.delete(b);
  }
  // anything the grid did not place (an unexpected alignment) is kept, in order
  return byTime.size === 0 ? out : [...out, ...byTime.values()].sort((a, b) => Date.parse(a.bucket) - Date.parse(b.bucket));
}
