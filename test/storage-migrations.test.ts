// Migrations on the real embedded engine: a fresh directory gets every
// file, a second run changes nothing, a changed applied file is refused, a
// dry run changes nothing; and the `ja4 db` commands around them.
import t from 'tap';
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { DEFAULT_SQL_DIR, loadMigrationFiles, migrate, migrationStatus, StorageError, TABLES } from '../src/storage/index.js';
import { openTestStorage, storageScratchDir } from './helpers/storage-fixture.js';

async function ja4(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const SCHEMA = `SELECT database, name, engine, create_table_query FROM system.tables
                WHERE database IN ('ja4_logs', 'ja4_processing') ORDER BY database, name`;

t.test('the migration files are numbered NNNN_verb_object.sql', async (t) => {
  const files = loadMigrationFiles();
  t.ok(files.length >= 11, `${files.length} files`);
  t.same(files.map((f) => f.name), [...files.map((f) => f.name)].sort(), 'in order');
  for (const f of files) t.match(f.name, /^\d{4}_[a-z]+_[a-z0-9_]+\.sql$/);
  const dir = mkdtempSync(join(tmpdir(), 'ja4-sql-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'create_things.sql'), 'SELECT 1');
  t.throws(() => loadMigrationFiles(dir), { code: 'ERR_MIGRATION_FILE', message: /NNNN_verb_object/ });
});

t.test('migrate on an empty directory, then again', async (t) => {
  const storage = await openTestStorage(t, { migrate: false });
  const first = await migrate(storage);
  const files = loadMigrationFiles();
  t.equal(first.applied.length, files.length, 'every file applied');
  t.equal(first.alreadyApplied, 0);
  const tables = await storage.query<{ database: string; name: string; engine: string }>(SCHEMA);
  const names = new Set(tables.map((r) => `${r.database}.${r.name}`));
  for (const table of Object.values(TABLES)) t.ok(names.has(table), `${table} exists`);
  t.ok(names.has('ja4_processing.http_logs_mv') && names.has('ja4_processing.dict_ip_asn'), 'materialized views and dictionaries exist');
  t.equal(tables.find((r) => r.name === 'http_logs_ingest')?.engine, 'Null', 'the ingest table stores nothing');
  t.notOk([...names].some((n) => n.endsWith('_dist')), 'no Distributed tables on a single node');

  // nothing pending: not one statement but the status read (services
  // migrate at start as users without CREATE rights on a server)
  const statements: string[] = [];
  const { command, client } = storage;
  const clientCommand = client.command.bind(client);
  (storage as { command: typeof command }).command = async (sql, ...rest) => (statements.push(sql), command.call(storage, sql, ...rest));
  client.command = async (params) => (statements.push(params.query), clientCommand(params));
  const second = await migrate(storage);
  (storage as { command: typeof command }).command = command;
  client.command = clientCommand;
  t.same(statements, [], 'with nothing pending, no DDL (not even CREATE ... IF NOT EXISTS)');
  t.same([second.applied.length, second.alreadyApplied], [0, files.length], 'the second run applies nothing');
  t.same(await storage.query(SCHEMA), tables, 'and changes no table');
  const [rec] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.migrations}`);
  t.equal(rec!.n, files.length, 'one record per file');
  const status = await migrationStatus(storage);
  t.ok(status.every((s) => s.state === 'applied' && /^[0-9a-f]{64}$/.test(s.checksum) && s.appliedAt), 'status: all applied, with checksum and time');
  t.equal(status.find((s) => s.name === '0011_create_users.sql')?.statements, 0, 'the server-only users file runs nothing embedded');

  // an applied file edited afterwards: refused, by name
  const dir = storageScratchDir(t);
  cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
  appendFileSync(join(dir, '0005_create_http_logs.sql'), '\n-- edited\n');
  const edited = loadMigrationFiles(dir);
  await t.rejects(migrate(storage, { files: edited }), { code: 'ERR_MIGRATION_CHANGED', message: /0005_create_http_logs\.sql/ });
  t.equal((await migrationStatus(storage, edited)).find((s) => s.name === '0005_create_http_logs.sql')?.state, 'changed');

  // the tables without their ledger (another cluster node's, or lost):
  // refused, since the backfills would count every request twice
  await storage.command(`TRUNCATE TABLE ${TABLES.migrations}`);
  await t.rejects(migrate(storage), { code: 'ERR_MIGRATION_LEDGER', message: /records no migration on this node: re-applying the migrations would double the backfilled aggregates/ });
  await storage.insertRows(TABLES.migrations, files.map((f) => ({ name: f.name, checksum: f.checksum, applied_at: Date.now(), statements: 0, duration_ms: 0, mode: 'embedded' })));

  // a new file is pending, then applied alone
  writeFileSync(join(dir, '0099_create_extra.sql'), 'CREATE TABLE IF NOT EXISTS ja4_processing.extra {{ON_CLUSTER}} (a UInt8) ENGINE = {{ENGINE MergeTree}} ORDER BY a;\n');
  const added = loadMigrationFiles(DEFAULT_SQL_DIR).concat(loadMigrationFiles(dir).filter((f) => f.name.startsWith('0099')));
  const third = await migrate(storage, { files: added });
  t.same(third.applied.map((a) => a.name), ['0099_create_extra.sql'], 'only the new file');
});

t.test('a dry run renders and changes nothing', async (t) => {
  const storage = await openTestStorage(t, { migrate: false });
  const r = await migrate(storage, { dryRun: true });
  t.ok(r.dryRun && r.applied.length > 0, 'lists the pending files');
  t.ok(r.applied.flatMap((a) => a.statements).every((s) => !s.includes('{{')), 'placeholders rendered');
  const [n] = await storage.query<{ n: number }>("SELECT count() AS n FROM system.databases WHERE name IN ('ja4_logs', 'ja4_processing')");
  t.equal(n!.n, 0, 'no database created');
});

t.test('ja4 db migrate / status from the command line', async (t) => {
  const dir = join(storageScratchDir(t), 'db');
  const dry = await ja4(['db', 'migrate', '--dry-run', '--db-dir', dir]);
  t.equal(dry.code, 0);
  t.match(dry.out, /-- 0001_create_databases\.sql\nCREATE DATABASE IF NOT EXISTS ja4_logs;/);
  t.match(dry.out, /dry run: \d+ pending, 0 already applied, nothing changed/);
  const run = await ja4(['db', 'migrate', '--db-dir', dir]);
  t.equal(run.code, 0, run.err);
  t.match(run.out, /^\d+ applied, 0 already applied\n$/);
  t.match(run.err, /applying 0006_create_http_logs_mv\.sql \(1 statement\)/);
  const again = await ja4(['db', 'migrate', '--db-dir', dir]);
  t.match(again.out, /^0 applied, \d+ already applied\n$/);
  const status = await ja4(['db', 'status', '--db-dir', dir]);
  t.equal(status.code, 0);
  t.match(status.out, /0004_create_dictionaries\.sql\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  t.match(status.out, /\d+ applied, 0 pending \(embedded\)/);
  const bad = await ja4(['db', 'migrate', '--retention', 'http_logs=0', '--db-dir', dir]);
  t.equal(bad.code, 2);
  t.match(bad.err, /retention\.http_logs must be a whole number of days.*\[ERR_STORAGE_OPTION\]/);
  const unknownFlag = await ja4(['db', 'status', '--dry-run', '--db-dir', dir]);
  t.equal(unknownFlag.code, 2);
  t.match(unknownFlag.err, /--dry-run is not an option of "ja4 db status"/);
  const cluster = await ja4(['db', 'migrate', '--cluster', 'c1', '--db-dir', dir]);
  t.equal(cluster.code, 2);
  t.match(cluster.err, /cluster \(--cluster \/ JA4_DB_CLUSTER\) needs a server/);
  const help = await ja4(['db', '--help']);
  t.match(help.out, /migrate \[--dry-run\]/);
  t.ok(StorageError, 'errors are exported');
});
