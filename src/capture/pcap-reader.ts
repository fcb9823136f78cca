// Offline capture reading: the native engine runs on a worker thread and
// hands back batches of records, so the event loop never blocks and JS is
// called once per batch, not once per packet.
import { loadAddon, type NativeCounters, type NativePcapReader, type NativeReadResult, type NativeRecordShape } from '../native/addon.js';
import { validateEngineOptions, type EngineOptions } from './engine-options.js';
import { parseRecordBatch, type FlowRecord } from './flow-record.js';

/** A capture that could not be read (missing, not a capture, truncated...). */
export class CaptureError extends Error {
  constructor(
    readonly code: string,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

export class PcapReader implements AsyncIterable<FlowRecord[]> {
  readonly file: string;
  private native: NativePcapReader | undefined;
  private finished = false;

  /**
   * Opens the file; throws CaptureError (ENOENT, EFORMAT, ELINKTYPE, ...) or
   * OptionError. `shape` chooses the records' JSON (full records by default;
   * `reference` is what `ja4 pcap --jsonl` prints, read with lineBatches()).
   */
  constructor(file: string, options: EngineOptions = {}, shape: NativeRecordShape = {}) {
    const native = validateEngineOptions(options);
    this.file = file;
    try {
      this.native = new (loadAddon().PcapReader)(file, native, shape);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new CaptureError(e.code ?? 'EOPEN', file, e.message ?? String(err));
    }
  }

  /**
   * Yields record batches until the end of the file. A read error (e.g. a
   * truncated capture) is thrown as CaptureError after the records read
   * before it have been yielded.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<FlowRecord[]> {
    for await (const lines of this.lineBatches()) {
      const records = parseRecordBatch(lines);
      if (records.length > 0) yield records;
    }
  }

  /** The same batches as the engine wrote them: JSON lines, unparsed. */
  async *lineBatches(): AsyncGenerator<Buffer> {
    if (this.finished || !this.native) return;
    const native = this.native;
    // One read is always in flight: the native thread fills the next batch
    // while JS consumes this one.
    let pending: Promise<NativeReadResult> | undefined = native.read();
    try {
      while (pending) {
        const res: NativeReadResult = await pending;
        pending = res.done ? undefined : native.read();
        if (res.done) this.finished = true;
        if (res.records.length > 0) yield res.records;
        if (res.error) throw new CaptureError(res.error.code, this.file, res.error.message);
      }
    } finally {
      // The consumer stopped early: let the read in flight finish so the
      // native reader is idle (and closable) again.
      if (pending) await pending.catch(() => undefined);
    }
  }

  /** Engine counters (packets, flows, evictions, malformed input...) as of the last batch. */
  stats(): NativeCounters {
    return this.native ? this.native.stats() : {};
  }

  close(): void {
    this.native?.close();
    this.native = undefined;
  }
}

/** Reads a whole capture into an array (tests, small files). */
export async function readPcap(file: string, options: EngineOptions = {}): Promise<FlowRecord[]> {
  const reader = new PcapReader(file, options);
  const all: FlowRecord[] = [];
  try {
    for await (const batch of reader) all.push(...batch);
  } finally {
    reader.close();
  }
  return all;
}
