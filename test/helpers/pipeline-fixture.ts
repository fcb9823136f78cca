// Shared by the pipeline suites: batches of correlated rows made by the real
// correlator (plain-HTTP records: written at once, status no_tls, with
// request ids the tests count), and a storage wrapper that simulates an
// outage in front of the real embedded engine.
import { BatchCorrelator } from '../../src/correlator/batch-correlator.js';
import type { Storage } from '../../src/storage/index.js';
import { TABLES } from '../../src/storage/index.js';
import type { BatchPart } from '../../src/pipeline/spool.js';
import { httpRecord, lines } from './correlator-records.js';

/** Batch i's rows as `ja4 run` writes them (a Native block): request ids b<i>-<j>, timestamps an hour ago (inside every TTL). */
export function batchParts(i: number, rowsPerBatch: number): BatchPart[] {
  const bc = new BatchCorrelator({ rawTables: false, format: 'Native' });
  const t0 = (Date.now() - 3_600_000) * 1000;
  const recs = [];
  for (let j = 0; j < rowsPerBatch; j++) {
    recs.push(httpRecord({ ts: t0 + i * 1000 + j, port: 1024 + j, scheme: 'http', extra: { unique_id: `b${i}-${j}` } }));
  }
  const out = bc.process(lines(...recs), undefined, Date.now() * 1000);
  return [{ table: TABLES.httpLogsIngest, body: out.ingest, rows: out.ingestRows, format: 'Native' }];
}

/**
 * The real storage with a switch: while `down`, inserts fail the way a lost
 * server connection does (before or, with `failAfterInsert`, after the
 * engine took the rows, like a timeout on the response).
 */
export interface FlakyStorage extends Storage {
  down: boolean;
  failAfterInsert: boolean;
  attempts: number;
}

export function flakyStorage(real: Storage): FlakyStorage {
  const flaky = Object.create(real) as FlakyStorage;
  flaky.down = false;
  flaky.failAfterInsert = false;
  flaky.attempts = 0;
  flaky.insertEncoded = async (table, body, format, settings, columns) => {
    flaky.attempts++;
    if (flaky.down && !flaky.failAfterInsert) throw new Error('insert into ja4_logs.http_logs_ingest failed: connect ECONNREFUSED 127.0.0.1:8123');
    await real.insertEncoded(table, body, format, settings, columns);
    if (flaky.down) throw new Error('insert into ja4_logs.http_logs_ingest failed: Timeout error.');
  };
  return flaky;
}

export async function countRequests(storage: Storage): Promise<{ rows: number; distinct: number }> {
  const [r] = await storage.query<{ rows: number; distinct: number }>(
    `SELECT count() AS rows, uniqExact(request_id) AS distinct FROM ${TABLES.httpLogs}`,
  );
  return r!;
}
