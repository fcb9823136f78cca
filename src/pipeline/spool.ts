// The on-disk spool: batches the database could not take (down, slow) wait
// here, one segment file per batch, and are replayed oldest first.
//
// Durability: a segment is written to "<seq>.tmp", fsync'd, renamed to
// "<seq>.seg" and the directory fsync'd before append() resolves; only then
// is the batch acknowledged. A kill -9 at any moment leaves either a
// complete .seg (replayed at the next start) or a .tmp that was never
// acknowledged (deleted at the next start). A segment keeps its batch's
// deduplication token, so a replay of a batch that did reach the database
// before the crash is dropped by ClickHouse (docs/correlator.md).
//
// Bounded: past maxBytes the oldest segments are deleted, counted, and
// logged loudly; never silently. The segments set aside (rejected/: data the
// database refused, corrupt files) have a bound of their own, the same
// size: a schema that refuses every insert would otherwise fill the disk.
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, readdir, rename, unlink, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createLogger, type Logger } from '../config/logger.js';
import { ROW_FORMATS, type RowFormat } from '../correlator/row-encoder.js';

export interface BatchPart {
  /** table to insert into */
  table: string;
  /** the rows, encoded in `format` */
  body: Buffer;
  rows: number;
  /** JSONEachRow when absent (segments written before RowBinary have none) */
  format?: RowFormat;
  /** the columns the body holds (RowBinary: in order; Native: the insert's list); absent: the table's own */
  columns?: readonly string[];
}

export interface Batch {
  /** insert_deduplication_token base: unique per batch, kept across replays */
  token: string;
  parts: BatchPart[];
}

export interface SpoolStats {
  segments: number;
  bytes: number;
  appended: number;
  replayed: number;
  dropped_segments: number;
  dropped_rows: number;
  rejected_segments: number;
  corrupt_segments: number;
  /** set-aside segments deleted to keep rejected/ within maxBytes */
  rejected_dropped: number;
}

const MAGIC = 'JA4SPOOL1\n';
// <sequence>.<rows>.seg: the row count in the name lets a drop be counted in rows without reading the file
const SEG = /^(\d{16})\.(\d+)\.seg$/;

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  rows: number;
}

interface PartHeader {
  table: string;
  bytes: number;
  rows: number;
  format?: RowFormat;
  columns?: string[];
}

function encode(batch: Batch): Buffer {
  const parts = batch.parts.map((p): PartHeader => ({ table: p.table, bytes: p.body.length, rows: p.rows, ...(p.format ? { format: p.format } : {}), ...(p.columns ? { columns: [...p.columns] } : {}) }));
  const header = JSON.stringify({ token: batch.token, parts });
  return Buffer.concat([Buffer.from(`${MAGIC}${header}\n`), ...batch.parts.map((p) => p.body)]);
}

function decode(buf: Buffer): Batch | undefined {
  if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const nl = buf.indexOf(10, MAGIC.length);
  if (nl < 0) return undefined;
  let header: { token: string; parts: PartHeader[] };
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length, nl)) as typeof header;
  } catch {
    return undefined;
  }
  // valid JSON is not yet a header (a flipped bit in a key's name): a
  // segment that is not one is corrupt, set aside like a truncated one
  if (header === null || typeof header !== 'object' || typeof header.token !== 'string' || !Array.isArray(header.parts)) return undefined;
  let at = nl + 1;
  const parts: BatchPart[] = [];
  for (const p of header.parts) {
    if (p === null || typeof p !== 'object' || typeof p.table !== 'string' || !Number.isSafeInteger(p.bytes) || p.bytes < 0 || !Number.isSafeInteger(p.rows) || p.rows < 0) return undefined;
    if (at + p.bytes > buf.length) return undefined;
    if (p.format !== undefined && !ROW_FORMATS.includes(p.format)) return undefined;
    if (p.columns !== undefined && (!Array.isArray(p.columns) || p.columns.some((c) => typeof c !== 'string'))) return undefined;
    const part: BatchPart = { table: p.table, body: buf.subarray(at, at + p.bytes), rows: p.rows };
    if (p.format) part.format = p.format;
    if (p.columns) part.columns = p.columns;
    parts.push(part);
    at += p.bytes;
  }
  return at === buf.length ? { token: header.token, parts } : undefined;
}

const rowsOf = (b: Batch): number => b.parts.reduce((n, p) => n + p.rows, 0);


export class Spool {
  private readonly segments: Segment[] = [];
  private nextSeq = 1;
  private bytes = 0;
  private readonly counters = { appended: 0, replayed: 0, dropped_segments: 0, dropped_rows: 0, rejected_segments: 0, corrupt_segments: 0, rejected_dropped: 0 };

  /** Opens (creates) the spool directory: unacknowledged .tmp files are deleted, segments are queued for replay. */
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly log: Logger = createLogger({ service: 'ja4-spool' }),
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`spool maxBytes (--spool-max-mb) must be a positive integer, got ${maxBytes}`);
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.tmp')) {
        unlinkSync(join(dir, name));
        continue;
      }
      const m = SEG.exec(name);
      if (!m) continue;
      const file = join(dir, name);
      const bytes = statSync(file).size;
      this.segments.push({ seq: Number(m[1]), file, bytes, rows: Number(m[2]) });
      this.bytes += bytes;
    }
    if (this.segments.length > 0) this.nextSeq = this.segments[this.segments.length - 1]!.seq + 1;
    // and past the set-aside ones: an empty spool started again at 1, and a
    // segment set aside after a restart replaced an older one of the same
    // name in rejected/ (its rows gone, uncounted)
    let rejected: string[] = [];
    try {
      rejected = readdirSync(join(dir, 'rejected'));
    } catch {
      // none yet
    }
    for (const name of rejected) {
      const m = SEG.exec(name);
      if (m && Number(m[1]) >= this.nextSeq) this.nextSeq = Number(m[1]) + 1;
    }
  }

  get depth(): { segments: number; bytes: number } {
    return { segments: this.segments.length, bytes: this.bytes };
  }

  stats(): SpoolStats {
    return { segments: this.segments.length, bytes: this.bytes, ...this.counters };
  }

  /** Writes the batch durably; resolves once it survives a kill -9 (the acknowledgement). */
  async append(batch: Batch): Promise<void> {
    const data = encode(batch);
    this.makeRoom(data.length);
    const seq = this.nextSeq++;
    const rows = rowsOf(batch);
    const name = `${String(seq).padStart(16, '0')}.${rows}`;
    const tmp = join(this.dir, `${name}.tmp`);
    const file = join(this.dir, `${name}.seg`);
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await this.syncDir();
    } catch (err) {
      // not acknowledged: a partial file must not take the disk the retry needs
      await unlink(tmp).catch(() => undefined);
      await unlink(file).catch(() => undefined);
      throw err;
    }
    // keep seq order even if appends overlap
    const seg = { seq, file, bytes: data.length, rows };
    let i = this.segments.length;
    while (i > 0 && this.segments[i - 1]!.seq > seq) i--;
    this.segments.splice(i, 0, seg);
    this.bytes += data.length;
    this.counters.appended++;
  }

  /** The oldest segment's sequence number and batch, or undefined when empty. Corrupt segments are set aside. */
  async oldest(): Promise<{ seq: number; batch: Batch } | undefined> {
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      let buf: Buffer;
      try {
        buf = await readFile(seg.file);
      } catch (err) {
        // deleted under us (dropped for room): go on with the next
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.forget(seg.seq);
          continue;
        }
        throw err;
      }
      const batch = decode(buf);
      if (batch) {
        return { seq: seg.seq, batch };
      }
      this.counters.corrupt_segments++;
      this.log.error('a spool segment is corrupt: set aside', { reason: 'corrupt', segment: seg.file, moved_to: join(this.dir, 'rejected') });
      await this.setAside(seg);
    }
    return undefined;
  }

  /** The segment reached the database: delete it. */
  async remove(seq: number): Promise<void> {
    const seg = this.segments.find((s) => s.seq === seq);
    if (!seg) return;
    this.forget(seq);
    this.counters.replayed++;
    await unlink(seg.file).catch(() => undefined);
  }

  /** The database refused the segment's data itself (not an outage): keep it aside for a human, stop retrying it. */
  async reject(seq: number, reason: string): Promise<void> {
    const seg = this.segments.find((s) => s.seq === seq);
    if (!seg) return;
    this.counters.rejected_segments++;
    this.log.error('the database refuses a spool segment: set aside, not retried', { reason: 'rejected', segment: seg.file, error: reason, rows: seg.rows, moved_to: join(this.dir, 'rejected') });
    await this.setAside(seg);
  }

  private async setAside(seg: Segment): Promise<void> {
    this.forget(seg.seq);
    const rejected = join(this.dir, 'rejected');
    // a disk that refuses: the file stays, is replayed after a restart and refused again
    await mkdir(rejected, { recursive: true }).catch(() => undefined);
    await rename(seg.file, join(rejected, basename(seg.file))).catch(() => undefined);
    await this.boundRejected(rejected);
  }

  /** rejected/ within maxBytes: the oldest set-aside segments go first, counted and logged. */
  private async boundRejected(rejected: string): Promise<void> {
    let files: { name: string; bytes: number }[];
    try {
      // names start with the 16-digit sequence: sorted is oldest first
      files = (await readdir(rejected)).sort().map((name) => ({ name, bytes: statSync(join(rejected, name)).size }));
    } catch {
      return;
    }
    let total = files.reduce((n, f) => n + f.bytes, 0);
    // the newest is kept whatever its size, as the spool keeps its newest segment
    for (const f of files.slice(0, -1)) {
      if (total <= this.maxBytes) break;
      await unlink(join(rejected, f.name)).catch(() => undefined);
      total -= f.bytes;
      this.counters.rejected_dropped++;
      this.log.error('spool rejected/ full: deleted the oldest segment set aside', { reason: 'rejected_full', segment: join(rejected, f.name), bytes: f.bytes, max_bytes: this.maxBytes, rejected_dropped: this.counters.rejected_dropped });
    }
  }

  private forget(seq: number): void {
    const i = this.segments.findIndex((s) => s.seq === seq);
    if (i < 0) return;
    this.bytes -= this.segments[i]!.bytes;
    this.segments.splice(i, 1);
  }

  /** Full: the oldest segments go, counted and logged (never silently). */
  private makeRoom(incoming: number): void {
    while (this.segments.length > 0 && this.bytes + incoming > this.maxBytes) {
      const seg = this.segments.shift()!;
      this.bytes -= seg.bytes;
      this.counters.dropped_segments++;
      this.counters.dropped_rows += seg.rows;
      try {
        unlinkSync(seg.file);
      } catch {
        // already gone
      }
      this.log.warn('spool full: dropped the oldest segment (the database has been unreachable or too slow for too long)', {
        reason: 'spool_full',
        max_bytes: this.maxBytes,
        segment: seg.file,
        bytes: seg.bytes,
        rows: seg.rows,
        dropped_segments: this.counters.dropped_segments,
        dropped_rows: this.counters.dropped_rows,
      });
    }
  }

  private async syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
