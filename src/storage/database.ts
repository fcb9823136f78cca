// The one owner of database access in a process. Everything goes through
// @clickhouse/client: by default its connection is chDB embedded in this
// process (chdb/connection), with --clickhouse-url the same client talks to
// a ClickHouse server over HTTP(S).
//
// Thread rule: chDB binds one data directory per process and must be used
// from one thread. openStorage() therefore refuses to run outside the main
// thread (piscina workers hand their results back to the main thread, which
// writes them) and refuses a second embedded directory while one is open.
import { isMainThread } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { StorageError, queryError } from './errors.js';
import type { StorageOptions } from './options.js';
import { tableResolver, type TableResolver } from './tables.js';
import { settingsClause, withSettings } from './settings-clause.js';

export type QueryParams = Record<string, unknown>;

/** The formats of encoded bodies (Storage.insertEncoded). */
export type EncodedFormat = 'JSONEachRow' | 'RowBinary' | 'Native' | 'CSV' | 'CSVWithNames' | 'TabSeparated';

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `table` or `table (a, b, c)`: the target of an INSERT; column names are checked (they go into the SQL text). */
function insertTarget(table: string, columns: readonly string[] | undefined): string {
  if (columns === undefined || columns.length === 0) return table;
  for (const c of columns) if (!COLUMN_NAME.test(c)) throw new StorageError('ERR_STORAGE_OPTION', `insert into ${table}: invalid column name ${JSON.stringify(c)}`);
  return `${table} (${columns.join(', ')})`;
}

export interface Storage {
  readonly mode: 'embedded' | 'server';
  readonly options: StorageOptions;
  readonly tables: TableResolver;
  /** the @clickhouse/client instance, for what the helpers below do not cover */
  readonly client: ClickHouseClient;
  /** SELECT returning rows (JSONEachRow, 64-bit integers as numbers); user input goes in params */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<T[]>;
  /** DDL or any statement without a result */
  command(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<void>;
  /** INSERT of JS objects (JSONEachRow) */
  insertRows(table: string, rows: readonly Record<string, unknown>[], settings?: ClickHouseSettings): Promise<void>;
  /**
   * INSERT of an already encoded body (JSONEachRow lines, RowBinary, CSV, ...): no per-row work in JS.
   * `columns`: the columns the body holds, in order (RowBinary is positional); default: all the table's.
   */
  insertEncoded(table: string, body: Buffer | string, format: EncodedFormat, settings?: ClickHouseSettings, columns?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The embedded directory open in this process, if any (see the thread rule above). */
let embeddedOpen: string | undefined;

// clickhouse-js quotes 64-bit integers in JSON by default; our counters fit
// in a double, and numbers are what callers compare and chart.
const READ_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0 };

async function createEmbeddedClient(dataDir: string): Promise<ClickHouseClient> {
  const dir = resolve(dataDir);
  if (embeddedOpen !== undefined) {
    throw new StorageError(
      'ERR_STORAGE_ALREADY_OPEN',
      `the embedded database ${embeddedOpen} is already open in this process; chDB allows one data directory per process (close it first, or share the Storage)`,
    );
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StorageError('ERR_STORAGE_OPTION', `dataDir (--db-dir) "${dir}" cannot be created: ${(err as Error).message}`);
  }
  // Loaded only in embedded mode: the engine is a large native library.
  const { createChdbConnection } = await import('chdb/connection');
  let connection;
  try {
    connection = createChdbConnection({ path: dir });
  } catch (err) {
    throw new StorageError('ERR_STORAGE_OPTION', `dataDir (--db-dir) "${dir}" cannot be opened by the embedded engine: ${(err as Error).message}`, { cause: err });
  }
  embeddedOpen = dir;
  // chdb/connection implements @clickhouse/client-common's Connection, which
  // @clickhouse/client bundles under its own type name: same shape.
  return createClient({ connection: connection as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] });
}

function createServerClient(options: StorageOptions): ClickHouseClient {
  const tls = options.tls;
  return createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs,
    application: 'ja4-platform',
    ...(tls?.caCert
      ? { tls: tls.cert && tls.key ? { ca_cert: tls.caCert, cert: tls.cert, key: tls.key } : { ca_cert: tls.caCert } }
      : {}),
  });
}

/**
 * Embedded inserts of encoded bodies: the body is written to a private
 * temporary file and the engine reads it (INSERT ... FROM INFILE). Through
 * the client, chdb/connection decodes the body to a JS string and prepends
 * the statement; chDB's raw insert takes the bytes but parses them less
 * efficiently. Measured on 100k correlated rows in 50k-row inserts through
 * the enrichment view and the four aggregates (CPU of the whole process per
 * row, same run): client 47-50 us, raw insert 37-47 us, file 24-30 us (the
 * engine loading one file of all rows: 23-25 us).
 *
 * The files go next to the data they become (`<dataDir>/ja4-insert/`), not
 * to the OS temp directory: a batch is up to 128 MiB, and /tmp is often a
 * RAM-backed tmpfs (Debian 13's default) or a small partition, where a
 * full temp directory would fail every insert while the data disk has room.
 */
export const INSERT_FILES_DIR = 'ja4-insert';

class InfileInserter {
  // a promise: concurrent first inserts share one preparation
  private dir: Promise<string> | undefined;
  private n = 0;

  constructor(private readonly base: string) {}

  async insert(client: ClickHouseClient, target: string, body: Buffer | string, format: string, settings: ClickHouseSettings | undefined): Promise<void> {
    this.dir ??= this.prepare();
    const file = join(await this.dir, `${process.pid}-${++this.n}.${format.toLowerCase()}`);
    try {
      await writeFile(file, body, { mode: 0o600 });
      // the path is ours (the data directory's, from the options); quoted for the SQL literal
      const literal = `'${file.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      // "INSERT INTO t FROM INFILE file [COMPRESSION type] [SETTINGS ...] [FORMAT format]" (ClickHouse's INSERT INTO)
      const clause = settingsClause(settings);
      await client.command({ query: `INSERT INTO ${target} FROM INFILE ${literal}${clause ? ` ${clause}` : ''} FORMAT ${format}` });
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * The directory, private to the service; the files a process killed
   * during an insert (kill -9) left behind, named after its pid, are
   * removed when that process no longer exists.
   */
  private async prepare(): Promise<string> {
    await mkdir(this.base, { recursive: true, mode: 0o700 });
    await chmod(this.base, 0o700); // also when an older one exists
    for (const name of await readdir(this.base).catch(() => [] as string[])) {
      const m = /^(\d+)-/.exec(name);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ESRCH') await rm(join(this.base, name), { force: true }).catch(() => undefined);
      }
    }
    return this.base;
  }
}

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (!isMainThread) {
    throw new StorageError('ERR_STORAGE_THREAD', 'the database is owned by the main thread: workers must hand their rows to it instead of opening it');
  }
  const client = options.mode === 'embedded' ? await createEmbeddedClient(options.dataDir) : createServerClient(options);
  const embedded = options.mode === 'embedded';
  const infile = embedded ? new InfileInserter(join(resolve(options.dataDir), INSERT_FILES_DIR)) : undefined;
  let closed = false;
  const live = (): void => {
    if (closed) throw new StorageError('ERR_STORAGE_CLOSED', 'the storage handle was used after close()');
  };

  const storage: Storage = {
    mode: options.mode,
    options,
    tables: tableResolver(options.cluster),
    client,
    async query<T>(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<T[]> {
      live();
      try {
        // embedded: the settings in the statement (settings-clause.ts says why)
        const all = { ...READ_SETTINGS, ...settings };
        const rs = embedded
          ? await client.query({ query: withSettings(sql, all), query_params: params, format: 'JSONEachRow' })
          : await client.query({ query: sql, query_params: params, format: 'JSONEachRow', clickhouse_settings: all });
        return await rs.json<T>();
      } catch (err) {
        throw queryError('query failed', err);
      }
    },
    async command(sql: string, params?: QueryParams, settings?: ClickHouseSettings): Promise<void> {
      live();
      try {
        // embedded: a command's settings end it as a SETTINGS clause (the
        // statements given settings take one: INSERT ... SELECT, SELECT)
        await (embedded ? client.command({ query: withSettings(sql, settings), query_params: params }) : client.command({ query: sql, query_params: params, clickhouse_settings: settings }));
      } catch (err) {
        throw queryError('statement failed', err);
      }
    },
    async insertRows(table: string, rows: readonly Record<string, unknown>[], settings?: ClickHouseSettings): Promise<void> {
      live();
      if (rows.length === 0) return;
      try {
        if (infile && settingsClause(settings) !== '') {
          // embedded, with settings: the file insert, whose statement carries them (settings-clause.ts)
          await infile.insert(client, table, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`, 'JSONEachRow', settings);
        } else {
          await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow', clickhouse_settings: settings });
        }
      } catch (err) {
        throw queryError(`insert into ${table} failed`, err);
      }
    },
    async insertEncoded(table, body, format, settings, columns): Promise<void> {
      live();
      if (body.length === 0) return;
      const target = insertTarget(table, columns);
      try {
        if (infile) {
          await infile.insert(client, target, body, format, settings);
          return;
        }
        // exec, not insert: client.insert would JSON-encode a stream again for
        // the JSON formats; exec sends the body as it is.
        const res = await client.exec({ query: `INSERT INTO ${target} FORMAT ${format}`, values: Readable.from([body]), clickhouse_settings: settings });
        // the (empty) response must be consumed to free an HTTP socket
        for await (const _ of res.stream) void _;
      } catch (err) {
        throw queryError(`insert into ${table} failed`, err);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await client.close();
      if (options.mode === 'embedded') {
        // Wait until the engine really let the directory go, so that this
        // process may open another one (tests do).
        const { drainPending } = await import('chdb');
        await drainPending();
        embeddedOpen = undefined;
      }
    },
  };
  return storage;
}
