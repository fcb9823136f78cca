// Simulated traffic into a scratch embedded database: the simulator's TLS
// events and mod_reqin_log records go through the real correlator (inline,
// on the event clock: the windows follow the data's own time) into
// ja4_logs.http_logs_ingest, so http_logs, the hourly aggregates and the
// feature view are exactly what a live deployment would hold for the same
// traffic. The labels (a separate file: never in the logged data) come back
// as ground truth per client IP.
//
// `ja4 detector eval --data DIR` reads DIR as `ja4 simulate --out DIR` writes
// it: tls-events.jsonl, http-requests.jsonl, labels.csv.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchCorrelator } from '../../correlator/batch-correlator.js';
import { DEFAULT_REFERENCE_DIR, loadReferenceData, type Storage } from '../../storage/index.js';
import type { GroundTruth } from '../training/labels.js';

export const SIMULATED_FILES = { tls: 'tls-events.jsonl', http: 'http-requests.jsonl', labels: 'labels.csv' } as const;

/** simulated seconds correlated per step: the correlator's windows are far longer, the memory stays small */
const STEP_US = 10_000_000;
/** correlated rows per insert */
const INSERT_ROWS = 50_000;

export interface LoadedTraffic {
  requests: number;
  ingestRows: number;
  /** epoch seconds of the first and last HTTP record */
  fromS: number;
  toS: number;
}

export class SimulatedDataError extends Error {
  readonly code = 'ERR_DETECTOR_DATA';
}

/** A batch as the simulator yields it (src/simulator/index.ts SimulatedBatch). */
export interface TrafficBatch {
  tls: string[];
  http: string[];
  labels?: { client_ip: string; family: string; is_bot: boolean; bot_name: string }[];
}

function tsOf(line: string, field: 'first_ts_us' | 'ts_us'): number {
  // the field sits near the start of both record kinds; a parse error is the correlator's to count
  const m = new RegExp(`"${field}":(\\d+)`).exec(line);
  return m ? Number(m[1]) : Number.NaN;
}

/** Feeds batches through the correlator into the database. */
export async function loadTraffic(storage: Storage, batches: AsyncIterable<TrafficBatch> | Iterable<TrafficBatch>, truth?: Map<string, GroundTruth>): Promise<LoadedTraffic> {
  // only the http_logs rows are loaded: the raw halves are not even encoded
  const correlator = new BatchCorrelator({ clock: 'event', rawTables: false });
  const table = storage.tables.write('httpLogsIngest');
  const out: LoadedTraffic = { requests: 0, ingestRows: 0, fromS: Number.POSITIVE_INFINITY, toS: Number.NEGATIVE_INFINITY };
  // one insert per INSERT_ROWS: every insert runs the whole materialized-view
  // chain (enrichment, four aggregates), so a few big blocks cost far less
  // than one small block per simulated second
  let pending: string[] = [];
  let pendingRows = 0;
  const flush = async (): Promise<void> => {
    if (pendingRows === 0) return;
    const body = pending.join('');
    pending = [];
    pendingRows = 0;
    await storage.insertEncoded(table, body, 'JSONEachRow');
  };
  const write = async (ingest: string, rows: number): Promise<void> => {
    if (rows === 0) return;
    out.ingestRows += rows;
    pending.push(ingest);
    pendingRows += rows;
    if (pendingRows >= INSERT_ROWS) await flush();
  };
  for await (const b of batches) {
    for (const l of b.labels ?? []) truth?.set(l.client_ip, { isBot: l.is_bot, family: l.family, botName: l.bot_name });
    for (const h of b.http) {
      const ts = tsOf(h, 'ts_us');
      if (Number.isFinite(ts)) {
        out.fromS = Math.min(out.fromS, ts / 1e6);
        out.toS = Math.max(out.toS, ts / 1e6);
      }
    }
    out.requests += b.http.length;
    const enc = correlator.process(
      b.http.length ? Buffer.from(`${b.http.join('\n')}\n`) : undefined,
      b.tls.length ? Buffer.from(`${b.tls.join('\n')}\n`) : undefined,
      0,
    );
    await write(enc.ingest, enc.ingestRows);
  }
  const rest = correlator.flush();
  await write(rest.ingest, rest.ingestRows);
  await flush();
  if (out.requests === 0) throw new SimulatedDataError('the traffic holds no HTTP record');
  return out;
}

/** One CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** labels.csv: a header naming client_ip, family, is_bot, bot_name (any order). */
export function readLabelsFile(file: string): Map<string, GroundTruth> {
  if (!existsSync(file)) throw new SimulatedDataError(`--labels: ${file} does not exist`);
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines.shift() ?? '').map((h) => h.trim());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new SimulatedDataError(`--labels: ${file} has no "${name}" column (header: ${header.join(',')})`);
    return i;
  };
  const [ip, family, isBot, botName] = [col('client_ip'), col('family'), col('is_bot'), col('bot_name')];
  const out = new Map<string, GroundTruth>();
  lines.forEach((line, k) => {
    const f = splitCsvLine(line);
    const b = f[isBot]?.trim().toLowerCase();
    if (b !== 'true' && b !== 'false' && b !== '1' && b !== '0') {
      throw new SimulatedDataError(`--labels: ${file}:${k + 2}: column "is_bot" must be true/false/1/0, got "${f[isBot] ?? ''}"`);
    }
    out.set(f[ip]!.trim(), { isBot: b === 'true' || b === '1', family: f[family]?.trim() ?? '', botName: f[botName]?.trim() ?? '' });
  });
  return out;
}

/** The two JSONL files of DIR merged into time-ordered batches of STEP_US. */
export function* batchesFromDir(dir: string): Generator<TrafficBatch> {
  const read = (name: string): string[] => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new SimulatedDataError(`--data: ${dir} has no ${name} (write it with "ja4 simulate --out ${dir}")`);
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  };
  const tls = read(SIMULATED_FILES.tls);
  const http = read(SIMULATED_FILES.http);
  let i = 0;
  let j = 0;
  while (i < tls.length || j < http.length) {
    const t0 = Math.min(i < tls.length ? tsOf(tls[i]!, 'first_ts_us') || 0 : Infinity, j < http.length ? tsOf(http[j]!, 'ts_us') || 0 : Infinity);
    const end = t0 + STEP_US;
    const b: TrafficBatch = { tls: [], http: [] };
    while (i < tls.length && !(tsOf(tls[i]!, 'first_ts_us') >= end)) b.tls.push(tls[i++]!);
    while (j < http.length && !(tsOf(http[j]!, 'ts_us') >= end)) b.http.push(http[j++]!);
    yield b;
  }
}

/** Reference lists for the enrichment (known bot JA4s and networks, crawler rules). */
export async function loadReferenceLists(storage: Storage, dir = DEFAULT_REFERENCE_DIR): Promise<void> {
  await loadReferenceData(storage, dir);
}
