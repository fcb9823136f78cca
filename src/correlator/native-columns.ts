// ClickHouse's Native format written column by column: what `ja4 run`
// inserts into the database. The engine reads a column of one type in one
// loop (and a String column without per-row dispatch), measured at 0.7-0.9
// us of CPU per http_logs_ingest row against 4.6-6.6 us for RowBinary (same
// rows, INSERT ... FROM INFILE into the Null table: docs/correlator.md).
// Thread: whichever owns the correlator (the worker). Here: the tls_events
// table; http_logs_ingest and http_requests are written in C++ from the
// parsed records (native/core/request_blocks.h, the same layout).
//
// A block (https://clickhouse.com/docs/interfaces/formats/Native, and what
// chDB writes for SELECT ... FORMAT Native): LEB128 column count, LEB128 row
// count, then per column its name, its type name (both LEB128 length +
// bytes) and its data for all rows. Data as in RowBinary for the fixed and
// String types (so each column is a RowBinaryWriter: the same value
// helpers); Array(T) = UInt64 cumulative end offsets for all rows, then the
// elements as one T column; Map(K, V) = Array(Tuple(K, V)) = the offsets,
// then all keys, then all values. Blocks concatenate into a valid Native
// stream (the pool and the batcher join bodies as they are).
//
// LowCardinality(String) columns are declared as String and
// Map(LowCardinality(String), String) as Map(String, String): the engine
// converts on insert for ~0.1-0.3 us per row (the same block into a Null
// table with and without LowCardinality), and the correlator keeps no
// dictionaries (a lookup per value would cost it about as much).
import { RowBinaryWriter } from './row-binary-writer.js';

/** Column buffers start small (a table has 20-40 columns per worker) and grow by doubling. */
const INITIAL_COLUMN_BYTES = 64 << 10;

export interface NativeColumn {
  readonly name: string;
  readonly type: string;
  /** the bytes writeTo will append */
  readonly byteLength: number;
  /** appends this column's data for the rows since the last call to `out`, and starts over */
  writeTo(out: RowBinaryWriter): void;
}

/** A column whose data is one run of values (integers, DateTime64, IPv6, Bool, String): write its values with the writer's helpers. */
export class ValueColumn extends RowBinaryWriter implements NativeColumn {
  constructor(
    readonly name: string,
    readonly type: string,
  ) {
    super(INITIAL_COLUMN_BYTES);
  }

  get byteLength(): number {
    return this.length;
  }

  writeTo(out: RowBinaryWriter): void {
    out.bytes(this.view());
  }
}

/** Array(String). */
export class StringArrayColumn implements NativeColumn {
  readonly type = 'Array(String)';
  private readonly offsets = new RowBinaryWriter(INITIAL_COLUMN_BYTES);
  private readonly items = new RowBinaryWriter(INITIAL_COLUMN_BYTES);
  private count = 0;

  constructor(readonly name: string) {}

  get byteLength(): number {
    return this.offsets.length + this.items.length;
  }

  /** A row of `n` strings encoded earlier (String bytes back to back in bytes[start..end)). */
  encoded(n: number, bytes: Uint8Array, start: number, end: number): void {
    if (n > 0) this.items.bytes(bytes, start, end);
    this.count += n;
    this.offsets.uint64(this.count);
  }

  writeTo(out: RowBinaryWriter): void {
    out.bytes(this.offsets.view());
    out.bytes(this.items.view());
    this.count = 0;
  }
}

/** One Native block of `rows` rows from the columns' data (which start over) appended to `out`. */
export function writeNativeBlock(out: RowBinaryWriter, rows: number, columns: readonly NativeColumn[]): void {
  // room for the whole block at once: grown by doubling, a block of tens of
  // MB was copied several times over (a tenth of the worker's CPU)
  let size = 20; // the two counts
  for (const c of columns) size += c.name.length + c.type.length + 4 + c.byteLength; // names and types are ASCII, under 128 bytes
  out.reserve(size);
  out.varint(columns.length);
  out.varint(rows);
  for (const c of columns) {
    out.string(c.name);
    out.string(c.type);
    c.writeTo(out);
  }
}
