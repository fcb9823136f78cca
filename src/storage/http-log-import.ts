// `ja4 db import FILE`: loads an http_logs export (JSONEachRow or Native),
// optionally shifting every timestamp so that the newest row is now (old
// captures then look like live traffic on the dashboard), as the original
// platform's import scripts did.
//
// The file goes into a staging table with http_logs' structure, then one
// INSERT ... SELECT moves it into http_logs (with the shift applied), so the
// hourly aggregates' materialized views see it like live traffic.
//   embedded: the engine reads the file itself (file()): the chdb connection
//             passes insert bodies as text, which would corrupt Native bytes;
//   server:   the file is streamed through the client (the server cannot see
//             this machine's files).
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StorageError } from './errors.js';
import type { Storage } from './database.js';
import { TABLES } from './tables.js';

export type ImportFormat = 'JSONEachRow' | 'Native';

export interface ImportOptions {
  format?: ImportFormat;
  shiftToNow?: boolean;
}

export interface ImportResult {
  rows: number;
  format: ImportFormat;
  /** seconds added to every timestamp (0 without shiftToNow) */
  shiftSeconds: number;
  /** rows older than the http_logs retention: counted by the aggregates, dropped from http_logs by its TTL */
  expired: number;
}

/** The engine's file() expands * ? {a,b} [..] in a path: a file whose name has them is read through a plain-named link. */
function literalPath(path: string): { path: string; cleanup(): void } {
  if (!/[*?{}[\]]/.test(path)) return { path, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'ja4-import-'));
  const link = join(dir, 'export');
  symlinkSync(path, link);
  return { path: link, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function importFormatOf(file: string, given?: string): ImportFormat {
  if (given !== undefined) {
    const f = given.toLowerCase();
    if (f === 'jsoneachrow' || f === 'jsonl' || f === 'ndjson') return 'JSONEachRow';
    if (f === 'native') return 'Native';
    throw new StorageError('ERR_STORAGE_OPTION', `--format must be JSONEachRow or Native, got "${given}"`);
  }
  if (/\.(jsonl|ndjson|json|jsoneachrow)$/i.test(file)) return 'JSONEachRow';
  if (/\.(native|bin)$/i.test(file)) return 'Native';
  throw new StorageError('ERR_IMPORT', `${file}: cannot tell the format from the name (.jsonl or .native); give --format`);
}

export async function importHttpLogs(storage: Storage, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new StorageError('ERR_IMPORT', `${file}: no such file`);
  const format = importFormatOf(path, opts.format);
  const staging = `ja4_processing.import_staging_${randomBytes(6).toString('hex')}`;
  // Unknown fields (columns of a newer version) are skipped, missing ones
  // take their defaults.
  const settings = { input_format_skip_unknown_fields: 1, max_partitions_per_insert_block: '0' } as const;
  // one partition: an export of months would otherwise make one per day
  await storage.command(`CREATE TABLE ${staging} AS ${TABLES.httpLogs} ENGINE = MergeTree PARTITION BY tuple() ORDER BY tuple()`);
  try {
    try {
      if (storage.mode === 'embedded') {
        const columns = await storage.query<{ name: string; type: string }>(
          'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position',
          { db: staging.split('.')[0], t: staging.split('.')[1] },
        );
        const structure = columns.map((c) => `\`${c.name.replace(/[`\\]/g, '\\$&')}\` ${c.type}`).join(', ');
        const literal = literalPath(path);
        try {
          await storage.command(`INSERT INTO ${staging} SELECT * FROM file({path:String}, {format:String}, {structure:String})`, { path: literal.path, format, structure }, settings);
        } finally {
          literal.cleanup();
        }
      } else {
        const res = await storage.client.exec({ query: `INSERT INTO ${staging} FORMAT ${format}`, values: createReadStream(path), clickhouse_settings: settings });
        for await (const _ of res.stream) void _;
      }
    } catch (err) {
      throw new StorageError('ERR_IMPORT', `${file}: not a ${format} export of http_logs: ${(err as Error).message}`, { cause: err });
    }
    // Unknown fields are skipped and missing ones defaulted: any JSON lines
    // would load as rows of defaults (client ::, time 1970, no id), which
    // the aggregates would keep for good. Every row must have what every
    // exported http_logs row has.
    const [stats] = await storage.query<{ rows: number; shift: number; bad: number }>(
      `SELECT count() AS rows, if(rows = 0, 0, dateDiff('second', max(ts), now64(6))) AS shift,
              countIf(toUnixTimestamp64Micro(ts) = 0 OR request_id = '' OR client_ip = toIPv6('::')) AS bad
       FROM ${staging}`,
    );
    if ((stats?.bad ?? 0) > 0) {
      throw new StorageError('ERR_IMPORT', `${file}: not an export of http_logs: ${stats!.bad} of ${stats!.rows} rows lack ts, request_id or client_ip; nothing imported`);
    }
    const shiftSeconds = opts.shiftToNow ? (stats?.shift ?? 0) : 0;
    const [old] = await storage.query<{ n: number }>(
      `SELECT countIf(ts + toIntervalSecond({shift:Int64}) < now64(6) - toIntervalDay({days:UInt32})) AS n FROM ${staging}`,
      { shift: shiftSeconds, days: storage.options.retention.http_logs },
    );
    await storage.command(
      `INSERT INTO ${storage.tables.write('httpLogs')}
       SELECT * REPLACE (ts + toIntervalSecond({shift:Int64}) AS ts) FROM ${staging}`,
      { shift: shiftSeconds },
      // an export of more than 100 days is one block of many daily partitions
      { max_partitions_per_insert_block: '0' },
    );
    return { rows: stats?.rows ?? 0, format, shiftSeconds, expired: old?.n ?? 0 };
  } finally {
    await storage.command(`DROP TABLE IF EXISTS ${staging}`);
  }
}
