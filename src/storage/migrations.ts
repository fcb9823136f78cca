// Schema migrations: the numbered files of sql/ (NNNN_verb_object.sql),
// applied in order, each recorded with its checksum in
// ja4_processing.schema_migrations. A file already applied must not change:
// migrate refuses to run, naming it, when its checksum differs (write a new
// file instead). Statements are idempotent (IF NOT EXISTS) so a file that
// failed half way can simply be applied again.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageError, engineMessage } from './errors.js';
import type { Storage } from './database.js';
import { renderTemplate, type RenderContext } from './sql-template.js';
import { TABLES } from './tables.js';

/** sql/ at the package root (from src/storage or dist/storage alike). */
export const DEFAULT_SQL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sql');

const FILE_NAME = /^(\d{4})_([a-z]+)_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  name: string;
  path: string;
  /** sha256 of the file's bytes (the template, so the mode does not change it) */
  checksum: string;
  template: string;
}

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

export interface MigrationStatus {
  name: string;
  state: MigrationState;
  checksum: string;
  appliedAt?: string;
  /** statements executed when it was applied (0: none for that mode) */
  statements?: number;
}

export interface MigrateResult {
  applied: { name: string; statements: string[] }[];
  alreadyApplied: number;
  dryRun: boolean;
}

export function loadMigrationFiles(dir = DEFAULT_SQL_DIR): MigrationFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch (err) {
    throw new StorageError('ERR_MIGRATION_FILE', `cannot read the migrations directory ${dir}: ${(err as Error).message}`);
  }
  const seen = new Map<string, string>();
  return names.map((name) => {
    const m = FILE_NAME.exec(name);
    if (!m) throw new StorageError('ERR_MIGRATION_FILE', `${join(dir, name)}: migration files are named NNNN_verb_object.sql`);
    const other = seen.get(m[1]!);
    if (other) throw new StorageError('ERR_MIGRATION_FILE', `${name} and ${other} have the same number ${m[1]}`);
    seen.set(m[1]!, name);
    const path = join(dir, name);
    const bytes = readFileSync(path);
    return { name, path, checksum: createHash('sha256').update(bytes).digest('hex'), template: bytes.toString('utf8') };
  });
}

export function renderContextOf(storage: Storage): RenderContext {
  const o = storage.options;
  return { cluster: o.cluster, server: o.mode === 'server', retention: o.retention, userPasswords: o.userPasswords };
}

/** The statements of one migration file for a mode, rendered. */
export function renderMigration(file: MigrationFile, ctx: RenderContext): string[] {
  return renderTemplate(file.template, ctx, file.name).map((s) => s.sql);
}

interface AppliedRow {
  name: string;
  checksum: string;
  last_applied: string;
  statements: number;
}

async function migrationsTableExists(storage: Storage): Promise<boolean> {
  const rows = await storage.query<{ n: number }>(
    'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: 'ja4_processing', name: TABLES.migrations.split('.')[1] },
  );
  return (rows[0]?.n ?? 0) > 0;
}

async function appliedMigrations(storage: Storage): Promise<Map<string, AppliedRow>> {
  if (!(await migrationsTableExists(storage))) return new Map();
  const rows = await storage.query<AppliedRow>(
    `SELECT name, argMax(m.checksum, m.applied_at) AS checksum, toString(max(m.applied_at)) AS last_applied,
            argMax(m.statements, m.applied_at) AS statements
     FROM ${TABLES.migrations} AS m GROUP BY name ORDER BY name`,
  );
  return new Map(rows.map((r) => [r.name, r]));
}

export async function migrationStatus(storage: Storage, files = loadMigrationFiles()): Promise<MigrationStatus[]> {
  const applied = await appliedMigrations(storage);
  const out: MigrationStatus[] = files.map((f) => {
    const row = applied.get(f.name);
    if (!row) return { name: f.name, state: 'pending', checksum: f.checksum };
    return {
      name: f.name,
      state: row.checksum === f.checksum ? 'applied' : 'changed',
      checksum: f.checksum,
      appliedAt: row.last_applied,
      statements: row.statements,
    };
  });
  for (const [name, row] of applied) {
    if (!files.some((f) => f.name === name)) out.push({ name, state: 'missing', checksum: row.checksum, appliedAt: row.last_applied, statements: row.statements });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function ensureMigrationsTable(storage: Storage): Promise<void> {
  // Local to the node the CLI talks to; ON CLUSTER DDL reaches the others.
  await storage.command('CREATE DATABASE IF NOT EXISTS ja4_processing');
  await storage.command(
    `CREATE TABLE IF NOT EXISTS ${TABLES.migrations}
     (name String, checksum FixedString(64), applied_at DateTime64(3, 'UTC'), statements UInt32,
      duration_ms UInt32, mode LowCardinality(String))
     ENGINE = MergeTree ORDER BY (name, applied_at)`,
  );
}

export interface MigrateOptions {
  dryRun?: boolean;
  files?: MigrationFile[];
  /** progress lines ("applying 0003_create_reference_tables.sql (7 statements)") */
  log?: (line: string) => void;
}

export async function migrate(storage: Storage, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const files = opts.files ?? loadMigrationFiles();
  const status = await migrationStatus(storage, files);
  const changed = status.filter((s) => s.state === 'changed');
  if (changed.length > 0) {
    throw new StorageError(
      'ERR_MIGRATION_CHANGED',
      `applied migration${changed.length > 1 ? 's' : ''} changed since applied: ${changed.map((c) => c.name).join(', ')}; ` +
        'never edit an applied file, add a new numbered one (restore the file to continue)',
    );
  }
  const ctx = renderContextOf(storage);
  const pending = files.filter((f) => status.find((s) => s.name === f.name)?.state === 'pending');
  // Render everything first: a template error stops before any change.
  const plan = pending.map((f) => ({ file: f, statements: renderMigration(f, ctx) }));
  const result: MigrateResult = { applied: [], alreadyApplied: files.length - pending.length, dryRun: opts.dryRun ?? false };
  if (opts.dryRun) {
    result.applied = plan.map((p) => ({ name: p.file.name, statements: p.statements }));
    return result;
  }
  // A schema without its ledger: another cluster node's ledger (it is local
  // to the node that ran migrate), or a ledger lost. Re-applying would re-run
  // the backfills of 0014/0015/0017/0018/0020 (INSERT ... SELECT) and count
  // every request twice in those aggregates, for good.
  if (plan.length > 0 && status.every((s) => s.state === 'pending')) {
    const [existing] = await storage.query<{ n: number }>(
      "SELECT count() AS n FROM system.tables WHERE database = 'ja4_processing' AND name = 'http_logs'",
    );
    if ((existing?.n ?? 0) > 0) {
      throw new StorageError(
        'ERR_MIGRATION_LEDGER',
        `the ja4 tables exist but ${TABLES.migrations} records no migration on this node: re-applying the migrations would ` +
          'double the backfilled aggregates. Run ja4 db migrate against the node that holds the ledger (the one it ran on first)',
      );
    }
  }
  // Nothing pending: no statement at all. The services migrate at start, and
  // on a server they run as users without DDL rights (ja4_writer,
  // ja4_dashboard): even CREATE ... IF NOT EXISTS needs the CREATE grant.
  if (plan.length === 0) return result;
  await ensureMigrationsTable(storage);
  const mode = ctx.cluster !== undefined ? `cluster:${ctx.cluster}` : ctx.server ? 'server' : 'embedded';
  for (const { file, statements } of plan) {
    opts.log?.(`applying ${file.name} (${statements.length} statement${statements.length === 1 ? '' : 's'})`);
    const started = Date.now();
    for (const [i, sql] of statements.entries()) {
      try {
        await storage.client.command({ query: sql });
      } catch (err) {
        throw new StorageError('ERR_MIGRATION_FAILED', `${file.name}: statement ${i + 1} of ${statements.length} failed: ${engineMessage(err)}`, { cause: err });
      }
    }
    await storage.insertRows(TABLES.migrations, [
      { name: file.name, checksum: file.checksum, applied_at: Date.now(), statements: statements.length, duration_ms: Date.now() - started, mode },
    ]);
    result.applied.push({ name: file.name, statements });
  }
  return result;
}
