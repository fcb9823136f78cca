// The correlation stage's threads. Each shard is a piscina pool of exactly
// one worker holding one BatchCorrelator: a connection's events must meet
// the same state, and piscina schedules a pool's tasks on any of its
// threads, so stickiness comes from one pool per shard. With one shard (the
// default: see docs/correlator.md for the measurements) the main thread
// does no per-line work at all: it transfers the received buffers, the
// worker parses, joins and encodes, and the main thread writes the encoded
// rows. With several shards the main thread routes lines by key hash
// (shard-router.ts). shards = 0 runs the correlator inline (tests, tools).
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { addBatchStats, BatchCorrelator, emptyBatchStats, RestartingCorrelator, retired, validateRowFormat, type BatchCorrelatorOptions, type BatchStats } from './batch-correlator.js';
import { splitByShard } from './shard-router.js';
import { EMPTY_BODY, type EncodedRows, type RowBody, type RowFormat } from './row-encoder.js';
import { transferable, unpackResult, type WorkerMessage, type WorkerTask } from './worker-protocol.js';

export interface CorrelatorPoolOptions extends BatchCorrelatorOptions {
  /** worker threads, one state shard each; 0 = in the calling thread */
  shards?: number;
}

/** A correlated batch as the main thread holds it: each table's body in bytes. */
export type CorrelatedBatch = EncodedRows<Buffer>;

const asBytes = (b: RowBody): Buffer => (typeof b === 'string' ? Buffer.from(b) : b);

function toBatch(r: EncodedRows): CorrelatedBatch {
  return { ...r, ingest: asBytes(r.ingest), requests: asBytes(r.requests), tlsEvents: asBytes(r.tlsEvents) };
}

export function validateShards(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 64) {
    throw new RangeError(`shards (--correlator-threads) must be an integer from 0 to 64, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class CorrelatorPool {
  private readonly pools: Piscina[] = [];
  private readonly inline: RestartingCorrelator | undefined;
  /** each shard's counters as of its last batch, from its current worker */
  private readonly shardStats: BatchStats[] = [];
  /** the worker each shard's counters came from, and those of its dead predecessors */
  private readonly shardThread: number[] = [];
  private readonly shardBase: BatchStats[] = [];
  readonly shards: number;
  /** how the rows come back: JSONEachRow (default), Native or RowBinary */
  readonly format: RowFormat;

  constructor(options: CorrelatorPoolOptions = {}) {
    const { shards, ...rest } = options;
    this.shards = validateShards(shards);
    this.format = validateRowFormat(rest.format);
    if (this.shards === 0) {
      this.inline = new RestartingCorrelator(() => new BatchCorrelator(rest));
      return;
    }
    // the worker is a sibling module: .ts under the test runner, .js in dist/
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const filename = new URL(`./worker.${ext}`, import.meta.url).href;
    for (let i = 0; i < this.shards; i++) {
      this.pools.push(
        new Piscina({
          filename,
          minThreads: 1,
          maxThreads: 1,
          // a shard's tasks run one at a time, in submission order
          concurrentTasksPerWorker: 1,
          idleTimeout: Infinity,
          workerData: rest,
          execArgv: process.execArgv,
          // parsing and encoding allocate many short-lived strings: a larger
          // young generation cut GC time by a quarter in the benchmark
          resourceLimits: { maxYoungGenerationSizeMb: 96 },
          // queued batches are bounded by the caller (run-pipeline keeps a few in flight)
          maxQueue: 'auto',
        }),
      );
    }
  }

  /** Suggested shard count: 1 on small machines (the main thread needs its core for the database). */
  static defaultShards(): number {
    return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 4)));
  }

  /** Correlates one received batch of HTTP lines and/or TLS event lines. */
  async process(http: Buffer | undefined, tls: Buffer | undefined, nowUs = Date.now() * 1000): Promise<CorrelatedBatch> {
    if (this.inline) {
      return this.inlineStep(this.inline, (c) => c.process(http, tls, nowUs));
    }
    if (this.shards === 1) return this.merge([this.run(0, { op: 'process', nowUs }, http, tls)]);
    const hs = http && http.length > 0 ? splitByShard(http, this.shards, 'http') : [];
    const ts = tls && tls.length > 0 ? splitByShard(tls, this.shards, 'tls') : [];
    return this.merge(this.pools.map((_, i) => this.run(i, { op: 'process', nowUs }, hs[i], ts[i])));
  }

  /** Shutdown: every shard writes its waiting requests. */
  async flush(): Promise<CorrelatedBatch> {
    if (this.inline) {
      return this.inlineStep(this.inline, (c) => c.flush());
    }
    return this.merge(this.pools.map((_, i) => this.run(i, { op: 'flush' })));
  }

  /** Counters summed over the shards (as of their last batch). */
  stats(): BatchStats {
    const out = emptyBatchStats();
    for (const s of [...this.shardBase, ...this.shardStats]) if (s) addBatchStats(out, s);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }

  /** A step on the main thread; its counters are kept as a worker's are, with its result. */
  private inlineStep(inline: RestartingCorrelator, step: (c: BatchCorrelator<RowFormat>) => EncodedRows<RowBody>): CorrelatedBatch {
    const rows = inline.run(step);
    this.shardStats[0] = inline.stats();
    return toBatch(rows);
  }

  private async run(shard: number, task: WorkerTask, http?: Buffer, tls?: Buffer): Promise<CorrelatedBatch> {
    const transferList: ArrayBuffer[] = [];
    if (task.op === 'process') {
      if (http && http.length > 0) transferList.push((task.http = transferable(http)));
      if (tls && tls.length > 0) transferList.push((task.tls = transferable(tls)));
    }
    const res = unpackResult((await this.pools[shard]!.run(task, { transferList })) as WorkerMessage);
    const last = this.shardStats[shard];
    if (last && this.shardThread[shard] !== res.thread) {
      // piscina replaced a worker that died: the Prometheus counters summed
      // here must not go down with the new worker's zeros
      addBatchStats((this.shardBase[shard] ??= emptyBatchStats()), retired(last));
    }
    this.shardThread[shard] = res.thread;
    this.shardStats[shard] = res.stats;
    return res;
  }

  private async merge(parts: Promise<CorrelatedBatch>[]): Promise<CorrelatedBatch> {
    const done = await Promise.all(parts);
    if (done.length === 1) return done[0]!;
    // Native and RowBinary bodies, like JSON lines, concatenate into one valid body
    const cat = (k: 'ingest' | 'requests' | 'tlsEvents'): Buffer => (done.length === 0 ? EMPTY_BODY : Buffer.concat(done.map((d) => d[k])));
    const sum = (k: 'ingestRows' | 'requestRows' | 'tlsEventRows'): number => done.reduce((n, d) => n + d[k], 0);
    return {
      format: this.format,
      ingest: cat('ingest'),
      requests: cat('requests'),
      tlsEvents: cat('tlsEvents'),
      ingestRows: sum('ingestRows'),
      requestRows: sum('requestRows'),
      tlsEventRows: sum('tlsEventRows'),
    };
  }
}
