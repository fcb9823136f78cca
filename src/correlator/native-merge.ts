// Many Native blocks made one: what the batcher does to the correlator's
// blocks before an insert. A worker emits one block per correlation step,
// and a step holds whatever arrived since the last one (a few rows when
// traffic is light); the engine pays ~10 us per column and block whatever
// its size (it parses the type names, builds the columns: measured ~360 us
// per http_logs_ingest block, 17-26 us per row in blocks of 20 rows against
// 1 us in one block of 50k), so an insert of many small blocks loses what
// Native saves. Thread: the main thread (the batcher); a few tenths of a
// microsecond per row (one pass over the string lengths).
//
// The blocks are ours (native-columns.ts): the column types it writes are
// the only ones read here. Blocks whose columns differ, or that hold
// another type, are left as they are (a stream of blocks is valid Native).
import { RowBinaryWriter } from './row-binary-writer.js';

const TWO_32 = 4_294_967_296;

const FIXED_WIDTH: Readonly<Record<string, number>> = {
  UInt8: 1,
  Bool: 1,
  UInt16: 2,
  UInt32: 4,
  UInt64: 8,
  Int64: 8,
  "DateTime64(6, 'UTC')": 8,
  IPv6: 16,
};

/** A column's data in a block: its runs of bytes ([start, end) pairs); the first of an array or map is its offsets. */
interface ColumnData {
  name: string;
  type: string;
  runs: number[];
}

interface Block {
  rows: number;
  columns: ColumnData[];
}

class Malformed extends Error {}

/** Reads LEB128 at `at`; returns [value, next position]. */
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (at >= b.length) throw new Malformed('truncated');
    const c = b[at++]!;
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [v, at];
    shift += 7;
    if (shift > 49) throw new Malformed('varint too long');
  }
}

/** The position after `n` Strings starting at `at`. */
function skipStrings(b: Buffer, at: number, n: number): number {
  for (let i = 0; i < n; i++) {
    // one-byte lengths (under 128) are nearly all of ours
    const c = b[at];
    if (c !== undefined && c < 0x80) at += 1 + c;
    else {
      const [len, next] = varint(b, at);
      at = next + len;
    }
  }
  if (at > b.length) throw new Malformed('truncated');
  return at;
}

/** The UInt64 at `p` (offsets stay far below 2^53). */
const uint64At = (b: Buffer, p: number): number => b.readUInt32LE(p) + b.readUInt32LE(p + 4) * TWO_32;

/** The last of `rows` UInt64 offsets starting at `at` (an array column's element count). */
function lastOffset(b: Buffer, at: number, rows: number): number {
  if (rows === 0) return 0;
  const p = at + (rows - 1) * 8;
  if (p + 8 > b.length) throw new Malformed('truncated');
  return uint64At(b, p);
}

function readString(b: Buffer, at: number): [string, number] {
  const [len, next] = varint(b, at);
  if (next + len > b.length) throw new Malformed('truncated');
  return [b.toString('utf8', next, next + len), next + len];
}

/** The blocks of one body, with where each column's data lies. */
function parseBlocks(b: Buffer, out: Block[]): void {
  let at = 0;
  while (at < b.length) {
    let ncols: number;
    let rows: number;
    [ncols, at] = varint(b, at);
    [rows, at] = varint(b, at);
    const columns: ColumnData[] = [];
    for (let c = 0; c < ncols; c++) {
      let name: string;
      let type: string;
      [name, at] = readString(b, at);
      [type, at] = readString(b, at);
      const start = at;
      const width = FIXED_WIDTH[type];
      if (width !== undefined) {
        at += rows * width;
        if (at > b.length) throw new Malformed('truncated');
        columns.push({ name, type, runs: [start, at] });
      } else if (type === 'String') {
        at = skipStrings(b, at, rows);
        columns.push({ name, type, runs: [start, at] });
      } else if (type === 'Array(String)') {
        const n = lastOffset(b, at, rows);
        const items = at + rows * 8;
        at = skipStrings(b, items, n);
        columns.push({ name, type, runs: [start, items, items, at] });
      } else if (type === 'Map(String, String)') {
        const n = lastOffset(b, at, rows);
        const keys = at + rows * 8;
        const values = skipStrings(b, keys, n);
        at = skipStrings(b, values, n);
        columns.push({ name, type, runs: [start, keys, keys, values, values, at] });
      } else {
        throw new Malformed(`type ${type}`);
      }
    }
    out.push({ rows, columns });
  }
}

const sameColumns = (a: Block, b: Block): boolean =>
  a.columns.length === b.columns.length && a.columns.every((c, i) => c.name === b.columns[i]!.name && c.type === b.columns[i]!.type);

/**
 * The bodies' rows as one Native block (the same rows, in order). Bodies
 * that are not all blocks of the same columns come back concatenated.
 */
export function mergeNativeBlocks(bodies: readonly Buffer[]): Buffer {
  const blocks: Block[] = [];
  const from: Buffer[] = []; // the body of each block
  try {
    for (const body of bodies) {
      const before = blocks.length;
      parseBlocks(body, blocks);
      for (let i = before; i < blocks.length; i++) from.push(body);
    }
  } catch (err) {
    if (err instanceof Malformed) return Buffer.concat(bodies);
    throw err;
  }
  if (blocks.length <= 1) return bodies.length === 1 ? bodies[0]! : Buffer.concat(bodies);
  const first = blocks[0]!;
  if (!blocks.every((b) => sameColumns(first, b))) return Buffer.concat(bodies);

  const total = blocks.reduce((n, b) => n + b.rows, 0);
  const out = new RowBinaryWriter(bodies.reduce((n, b) => n + b.length, 64));
  out.varint(first.columns.length);
  out.varint(total);
  for (let c = 0; c < first.columns.length; c++) {
    const col = first.columns[c]!;
    out.string(col.name);
    out.string(col.type);
    const isArray = col.runs.length > 2; // its first run is the offsets
    for (let run = 0; run < col.runs.length; run += 2) {
      let base = 0;
      for (let k = 0; k < blocks.length; k++) {
        const b = from[k]!;
        const runs = blocks[k]!.columns[c]!.runs;
        const start = runs[run]!;
        const end = runs[run + 1]!;
        if (run === 0 && isArray) {
          // offsets are cumulative over the block: shifted by the elements of the blocks before
          if (base === 0) out.bytes(b.subarray(start, end));
          else for (let p = start; p < end; p += 8) out.uint64(uint64At(b, p) + base);
          base += lastOffset(b, start, blocks[k]!.rows);
        } else {
          out.bytes(b.subarray(start, end));
        }
      }
    }
  }
  return out.view(); // the writer is this call's: its memory is the result's
}
