// Where correlated batches go (`ja4 run --output`): the database (the
// default), a JSON lines file, or stdout. A sink writes one batch or
// throws; retries and the spool are the DurableWriter's business.
import { open, type FileHandle } from 'node:fs/promises';
import type { RowFormat } from '../correlator/row-encoder.js';
import type { Storage } from '../storage/index.js';
import type { Batch, BatchPart } from './spool.js';

export interface Sink {
  readonly name: string;
  /** the row format the sink wants from the correlator */
  readonly format: RowFormat;
  write(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

/** The JSON sinks write bodies as they are: a binary one would be garbage in the file. */
function jsonBody(part: BatchPart): Buffer {
  if ((part.format ?? 'JSONEachRow') !== 'JSONEachRow') throw new Error(`the ${part.table} rows are ${part.format}: a JSON output needs the correlator's JSONEachRow rows`);
  return part.body;
}

/**
 * What the engine does for every batch besides deduplication (the benches'
 * raw insert baselines take it too, to compare like with like).
 *
 * optimize_on_insert = 0: by default an insert into an AggregatingMergeTree
 * first merges the rows of equal key in its block, copying every aggregate
 * state once more. The aggregates' views (sql/0007 ...) have already grouped
 * their block by that key, so there is nothing to merge: it cost ~0.9 us of
 * the engine per request for agg_host_ip_ja4_1h alone (docs/storage.md).
 * Readers GROUP BY the key anyway, as rows of one key from different inserts
 * are merged only eventually.
 */
export const INGEST_ENGINE_SETTINGS = Object.freeze({ optimize_on_insert: 0 as const });

/**
 * ClickHouse (embedded or server), fed Native blocks: the engine parses them
 * for a fraction of the CPU of RowBinary or JSONEachRow (docs/correlator.md).
 * Replayed spool segments keep the format they were written in (RowBinary or
 * JSONEachRow from older versions). Each table's part is one INSERT carrying
 * the batch's deduplication token: http_logs and its aggregates keep the
 * last 1000 tokens (non_replicated_deduplication_window, sql/0005, 0007), and
 * deduplicate_blocks_in_dependent_materialized_views makes the token count
 * through the Null table and its materialized views, so a replayed batch is
 * stored once (test/pipeline-spool.test.ts counts it).
 */
export function clickhouseSink(storage: Storage): Sink {
  return {
    name: storage.mode === 'embedded' ? `clickhouse (embedded ${storage.options.dataDir})` : `clickhouse ${storage.options.url ?? ''}`,
    format: 'Native',
    async write(batch) {
      for (const part of batch.parts) {
        if (part.body.length === 0) continue;
        const settings = { ...INGEST_ENGINE_SETTINGS, insert_deduplication_token: `${batch.token}:${part.table}`, deduplicate_blocks_in_dependent_materialized_views: 1 as const };
        await storage.insertEncoded(part.table, part.body, part.format ?? 'JSONEachRow', settings, part.columns);
      }
    },
    async close() {
      // the storage belongs to the caller
    },
  };
}

/** Correlated requests (the http_logs_ingest rows) as JSON lines; the raw tables' rows are not written. */
export async function jsonlFileSink(path: string, ingestTable: string): Promise<Sink> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'a');
  } catch (err) {
    throw new Error(`--output jsonl:${path}: cannot open the file: ${(err as Error).message}`);
  }
  return {
    name: `jsonl ${path}`,
    format: 'JSONEachRow',
    async write(batch) {
      // A batch is in the file whole or not at all: one write() may take only
      // part of the bytes (a file size limit, a full disk), and the writer's
      // retry must not follow half a line.
      const start = (await fh.stat()).size;
      try {
        for (const part of batch.parts) {
          if (part.table !== ingestTable || part.body.length === 0) continue;
          const body = jsonBody(part);
          for (let off = 0; off < body.length; ) {
            const { bytesWritten } = await fh.write(body, off, body.length - off);
            if (bytesWritten === 0) throw new Error(`--output jsonl:${path}: the file takes no more bytes`);
            off += bytesWritten;
          }
        }
      } catch (err) {
        await fh.truncate(start).catch(() => undefined);
        throw err;
      }
    },
    async close() {
      await fh.sync().catch(() => undefined);
      await fh.close();
    },
  };
}

export function stdoutSink(ingestTable: string, stream: NodeJS.WritableStream = process.stdout): Sink {
  return {
    name: 'stdout',
    format: 'JSONEachRow',
    async write(batch) {
      for (const part of batch.parts) {
        if (part.table !== ingestTable || part.body.length === 0) continue;
        // honour back-pressure: a slow reader slows the writer (and the spool takes the rest)
        if (!stream.write(jsonBody(part))) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      }
    },
    async close() {},
  };
}

export type OutputSpec = { kind: 'clickhouse' } | { kind: 'jsonl'; path: string } | { kind: 'stdout' };

export function parseOutputSpec(value: string | undefined): OutputSpec {
  if (value === undefined || value === 'clickhouse') return { kind: 'clickhouse' };
  if (value === 'stdout' || value === '-') return { kind: 'stdout' };
  if (value.startsWith('jsonl:') && value.length > 6) return { kind: 'jsonl', path: value.slice(6) };
  throw new RangeError(`--output must be clickhouse, jsonl:FILE or stdout, got "${value}"`);
}
