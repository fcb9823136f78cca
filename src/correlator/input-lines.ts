// Splitting a received batch into JSON objects, with every rejected line
// counted by reason. A batch is a run of '\n'-terminated JSON lines (one
// mod_reqin_log record or one TLS event each); a bad line is dropped and
// counted, never fatal, and never takes its neighbours with it.

/** Why a line was rejected (the keys of the drop counters). */
export type DropReason = 'oversized' | 'not_json' | 'schema_invalid';

export const DROP_REASONS: readonly DropReason[] = ['oversized', 'not_json', 'schema_invalid'];

export type DropCounters = Record<DropReason, number>;

export function emptyDropCounters(): DropCounters {
  return { oversized: 0, not_json: 0, schema_invalid: 0 };
}

/** mod_reqin_log's largest record (ReqinLogMaxRecordSize's maximum): anything longer is not one of ours. */
export const DEFAULT_MAX_LINE_BYTES = 65536;

/**
 * Calls `onObject` for each line of `buf` that is a JSON object no longer
 * than `maxLineBytes`; counts the others in `drops`. Blank lines are skipped
 * silently (a datagram ending in "\n\n" is not an error). A last line
 * without '\n' is taken as a line (the receiver appends one; a file may not).
 */
export function forEachJsonLine(buf: Buffer, maxLineBytes: number, drops: DropCounters, onObject: (obj: Record<string, unknown>) => void): void {
  const end = buf.length;
  let start = 0;
  while (start < end) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = end;
    const len = nl - start;
    if (len > maxLineBytes) {
      drops.oversized++;
    } else if (len > 0 && !(len === 1 && buf[start] === 13)) {
      let value: unknown;
      try {
        value = JSON.parse(buf.toString('utf8', start, nl));
      } catch {
        value = undefined;
        drops.not_json++;
      }
      if (value !== undefined) {
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) onObject(value as Record<string, unknown>);
        else drops.schema_invalid++;
      }
    }
    start = nl + 1;
  }
}
