// ClickHouse's RowBinary format written straight into a growing byte
// buffer: the correlator's rows without a JSON string per row for V8 to
// build and collect, and without the engine parsing JSON back (the engine
// loads RowBinary for about half the CPU of JSONEachRow:
// docs/correlator.md). Thread: whichever owns the correlator (the worker).
//
// Encodings (https://clickhouse.com/docs/interfaces/formats/RowBinary):
// integers little-endian; String (and LowCardinality(String)) = LEB128
// length + UTF-8 bytes; Array(T) = LEB128 count + elements; Map(K, V) =
// LEB128 count + key, value pairs; DateTime64(6) = Int64 ticks
// (microseconds); IPv6 = its 16 bytes in network order; Bool = one byte.

const TWO_32 = 4_294_967_296;

/** Past this size, a buffer used at less than a quarter by a batch is given back (a burst must not pin its memory). */
const SHRINK_ABOVE = 16 << 20;

export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of what was written; the writer starts over (its memory is kept for the next batch). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.startOver();
    return out;
  }

  /**
   * What was written, without a copy: a view of the writer's memory, valid
   * until the next write (the worker copies it into its result at once; a
   * copy per batch into fresh memory cost more than the encoding).
   */
  view(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.startOver();
    return out;
  }

  /** The buffer's size (tests). */
  get capacity(): number {
    return this.buf.length;
  }

  private startOver(): void {
    // a view handed out keeps the old buffer alive for as long as it is used
    if (this.buf.length > SHRINK_ABOVE && this.pos * 4 < this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(this.initialBytes, this.pos * 2));
    this.pos = 0;
  }

  uint8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.uint8(v ? 1 : 0);
  }

  uint16(v: number): void {
    this.room(2);
    const b = this.buf;
    b[this.pos] = v;
    b[this.pos + 1] = v >>> 8;
    this.pos += 2;
  }

  uint32(v: number): void {
    this.room(4);
    this.put32(v);
  }

  /** UInt64 or a non-negative Int64 (DateTime64 ticks): integers up to 2^53, as the validators ensure. */
  uint64(v: number): void {
    this.room(8);
    this.put32(v % TWO_32);
    this.put32(Math.floor(v / TWO_32));
  }

  /** LEB128, as RowBinary writes lengths and counts. */
  varint(n: number): void {
    this.room(5);
    const b = this.buf;
    while (n > 0x7f) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[this.pos++] = n;
  }

  string(s: string): void {
    const n = s.length;
    // Most of our strings are short ASCII (fingerprints, names, paths): copied
    // char by char with the length written first, cheaper than a call into
    // the UTF-8 encoder; anything else takes the encoder.
    if (n < 16384) {
      const head = n < 128 ? 1 : 2;
      this.room(head + n);
      const b = this.buf;
      let p = this.pos + head;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === n) {
        if (head === 1) b[this.pos] = n;
        else {
          b[this.pos] = (n & 0x7f) | 0x80;
          b[this.pos + 1] = n >>> 7;
        }
        this.pos = p;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.room(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  stringArray(a: readonly string[]): void {
    this.varint(a.length);
    for (const s of a) this.string(s);
  }

  /** Map(String, String) from an object's own enumerable keys, in their order. */
  stringMap(o: Readonly<Record<string, string>>): void {
    const keys = Object.keys(o);
    this.varint(keys.length);
    for (const k of keys) {
      this.string(k);
      this.string(o[k]!);
    }
  }

  /** Bytes encoded earlier, b[start..end) (a connection's columns, written once and reused for each of its requests). */
  bytes(b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    this.room(n);
    if (n <= 256) {
      // fingerprints, names: a loop costs less than a view and a call to set()
      const out = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) out[p++] = b[i]!;
      this.pos = p;
      return;
    }
    this.buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), this.pos);
    this.pos += n;
  }

  /**
   * An IPv6 column from an address the validators accepted (node:net isIP):
   * IPv4 becomes IPv4-mapped (::ffff:a.b.c.d), as ClickHouse stores an IPv4
   * text in an IPv6 column; '' is '::' (unknown).
   */
  ipv6(ip: string): void {
    this.room(16);
    const b = this.buf;
    const at = this.pos;
    for (let i = at; i < at + 16; i++) b[i] = 0; // 16 bytes: cheaper than a call to fill()
    this.pos += 16;
    if (ip === '') return;
    if (ip.indexOf(':') < 0) {
      b[at + 10] = 0xff;
      b[at + 11] = 0xff;
      putIpv4(b, at + 12, ip);
      return;
    }
    putIpv6(b, at, ip);
  }

  private put32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }

  /** Room for `n` more bytes in one step (a writer that starts over keeps it for the next batch). */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    this.grow(size);
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** Dotted quad at b[at..at+4). */
function putIpv4(b: Uint8Array, at: number, ip: string): void {
  let octet = 0;
  let k = at;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      b[k++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  b[k] = octet;
}

/** 16 bytes of an IPv6 text ('::' runs, an IPv4 tail, a zone '%...' ignored). */
function putIpv6(b: Uint8Array, at: number, text: string): void {
  const zone = text.indexOf('%');
  const ip = zone < 0 ? text : text.slice(0, zone);
  const gap = ip.indexOf('::');
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.indexOf('.') >= 0) {
        const v4 = new Uint8Array(4);
        putIpv4(v4, 0, g);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groupsOf(gap < 0 ? ip : ip.slice(0, gap));
  const tail = gap < 0 ? [] : groupsOf(ip.slice(gap + 2));
  const put = (i: number, g: number): void => {
    b[at + 2 * i] = g >>> 8;
    b[at + 2 * i + 1] = g & 0xff;
  };
  head.forEach((g, i) => put(i, g));
  tail.forEach((g, i) => put(8 - tail.length + i, g));
}
