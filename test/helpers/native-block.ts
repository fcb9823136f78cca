// Reads a ClickHouse Native block back into rows, for the tests that check
// the correlator's blocks against its JSONEachRow rows without an engine
// (https://clickhouse.com/docs/interfaces/formats/Native; the layout the
// writers follow is described in src/correlator/native-columns.ts). Only
// the types the correlator writes. Values come out in the forms the
// JSONEachRow rows have once normalized by `comparable` below.

export type Cell = string | number | boolean | string[] | [string, string][];

class Reader {
  at = 0;
  constructor(private readonly b: Buffer) {}

  varint(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const c = this.b[this.at++]!;
      n += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return n;
      shift += 7;
    }
  }

  string(): string {
    const n = this.varint();
    const s = this.b.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  uint(bytes: number): number {
    let v = 0;
    for (let i = bytes - 1; i >= 0; i--) v = v * 256 + this.b[this.at + i]!;
    this.at += bytes;
    return v;
  }

  hex(bytes: number): string {
    const s = this.b.toString('hex', this.at, this.at + bytes);
    this.at += bytes;
    return s;
  }

  offsets(rows: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < rows; i++) out.push(this.uint(8));
    return out;
  }

  get done(): boolean {
    return this.at === this.b.length;
  }
}

const FIXED: Record<string, number> = { UInt8: 1, UInt16: 2, UInt32: 4, UInt64: 8, "DateTime64(6, 'UTC')": 8 };

function column(r: Reader, type: string, rows: number): Cell[] {
  const out: Cell[] = [];
  if (type === 'String') for (let i = 0; i < rows; i++) out.push(r.string());
  else if (type === 'Bool') for (let i = 0; i < rows; i++) out.push(r.uint(1) === 1);
  else if (type === 'IPv6') for (let i = 0; i < rows; i++) out.push(r.hex(16));
  else if (FIXED[type] !== undefined) for (let i = 0; i < rows; i++) out.push(r.uint(FIXED[type]));
  else if (type === 'Array(String)') {
    const ends = r.offsets(rows);
    let prev = 0;
    for (const end of ends) {
      const a: string[] = [];
      for (let k = prev; k < end; k++) a.push(r.string());
      out.push(a);
      prev = end;
    }
  } else if (type === 'Map(String, String)') {
    const ends = r.offsets(rows);
    const total = ends.length === 0 ? 0 : ends[ends.length - 1]!;
    const keys: string[] = [];
    for (let k = 0; k < total; k++) keys.push(r.string());
    const values: string[] = [];
    for (let k = 0; k < total; k++) values.push(r.string());
    let prev = 0;
    for (const end of ends) {
      const m: [string, string][] = [];
      for (let k = prev; k < end; k++) m.push([keys[k]!, values[k]!]);
      out.push(m);
      prev = end;
    }
  } else {
    throw new Error(`native-block: type ${type} not read here`);
  }
  return out;
}

/** The rows of the concatenated blocks in `body`, column name -> value. */
export function nativeRows(body: Buffer): Record<string, Cell>[] {
  const r = new Reader(body);
  const rows: Record<string, Cell>[] = [];
  while (!r.done) {
    const ncols = r.varint();
    const nrows = r.varint();
    const block: Record<string, Cell>[] = Array.from({ length: nrows }, () => ({}));
    for (let c = 0; c < ncols; c++) {
      const name = r.string();
      const type = r.string();
      column(r, type, nrows).forEach((v, i) => (block[i]![name] = v));
    }
    rows.push(...block);
  }
  return rows;
}
