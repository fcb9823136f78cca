// Shared by the pipeline suites: batches of correlated rows made by the real
// correlator (plain-HTTP records: written at once, status no_tls, with
// request ids the tests count), and a storage wrapper that simulates an
// outage in front of the real embedded engine.
import { BatchCorrelator } from '../../src/correlator/batch-correlator.js';
import type { Storage } from '../../src/storage/index.js';
import { TABLES } from '../../src/storage/index.js';
import type { BatchPart } from '../../src/pipeline/spool.js';
import { httpRecord, lines } from './correlator-records.js';

/**
 * Batch i's rows as `ja4 run` writes them (a Native block): request ids
 * b<i>-<j>, timestamps an hour ago (inside every TTL); with `rawTables`, the
 * same requests' ja4_logs.http_requests rows too (`ja4 run --raw-tables`).
 */
export function batchParts(i: number, rowsPerBatch: number, rawTables = false): BatchPart[] {
  const bc = new BatchCorrelator({ rawTables, format: 'Native' });
  const t0 = (Date.now() - 3_600_000) * 1000;
  const recs = [];
  for (let j = 0; j < rowsPerBatch; j++) {
    recs.push(httpRecord({ ts: t0 + i * 1000 + j, port: 1024 + j, scheme: 'http', extra: { unique_id: `b${i}-${j}` } }));
  }
  const out = bc.process(lines(...recs), undefined, Date.now() * 1000);
  const parts: BatchPart[] = [{ table: TABLES.httpLogsIngest, body: out.ingest, rows: out.ingestRows, format: 'Native' }];
  if (rawTables) parts.push({ table: TABLES.httpRequests, body: out.requests, rows: out.requestRows, format: 'Native' });
  return parts;
}

/**
 * The real storage with a switch: while `down`, inserts fail the way a lost
 * server connection does (before or, with `failAfterInsert`, after the
 * engine took the rows, like a timeout on the response). `lostAnswerTable`
 * narrows the lost answers to the inserts into one table, the others going
 * through: a batch's last part timing out after its first parts landed.
 */
export interface FlakyStorage extends Storage {
  down: boolean;
  failAfterInsert: boolean;
  lostAnswerTable: string | undefined;
  attempts: number;
}

export function flakyStorage(real: Storage): FlakyStorage {
  const flaky = Object.create(real) as FlakyStorage;
  flaky.down = false;
  flaky.failAfterInsert = false;
  flaky.lostAnswerTable = undefined;
  flaky.attempts = 0;
  flaky.insertEncoded = async (table, body, format, settings, columns) => {
    flaky.attempts++;
    if (flaky.down && !flaky.failAfterInsert) throw new Error('insert into ja4_logs.http_logs_ingest failed: connect ECONNREFUSED 127.0.0.1:8123');
    await real.insertEncoded(table, body, format, settings, columns);
    if (flaky.down && (flaky.lostAnswerTable === undefined || flaky.lostAnswerTable === table)) throw new Error(`insert into ${table} failed: Timeout error.`);
  };
  return flaky;
}

/** Rows and distinct request ids in http_logs (or the raw ja4_logs.http_requests, whose id column is unique_id). */
export async function countRequests(storage: Storage, table: string = TABLES.httpLogs): Promise<{ rows: number; distinct: number }> {
  const id = table === TABLES.httpRequests ? 'unique_id' : 'request_id';
  const [r] = await storage.query<{ rows: number; distinct: number }>(`SELECT count() AS rows, uniqExact(${id}) AS distinct FROM ${table}`);
  return r!;
}
