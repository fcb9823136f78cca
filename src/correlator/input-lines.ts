// Splitting a received batch into JSON objects, with every rejected line
// counted by reason. A batch is a run of '\n'-terminated JSON lines (one
// mod_reqin_log record or one TLS event each); a bad line is dropped and
// counted, never fatal, and never takes its neighbours with it.
import { isAscii } from 'node:buffer';

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
  // One UTF-8 decode for the whole batch (a decode per line cost more than
  // the parse); a line's size is its byte length after decoding. Records are
  // nearly always ASCII (mod_reqin_log escapes the rest): then the latin1
  // decoder, a copy, makes the same string in ~60% of the time.
  const text = isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
  const end = text.length;
  let start = 0;
  while (start < end) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = end;
    const len = nl - start;
    // a UTF-16 unit is 1 to 3 UTF-8 bytes: measure only lines that may be over
    if (len > maxLineBytes || (len * 3 > maxLineBytes && Buffer.byteLength(text.slice(start, nl)) > maxLineBytes)) {
      drops.oversized++;
    } else if (len > 0 && !(len === 1 && text.charCodeAt(start) === 13)) {
      let value: unknown;
      try {
        value = JSON.parse(text.slice(start, nl));
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
