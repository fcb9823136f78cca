// `ja4 db migrate|status|import`: the schema and http_logs imports.
import { parseArgs } from 'node:util';
import {
  STORAGE_ARG_HELP,
  STORAGE_ARG_SPEC,
  StorageError,
  importHttpLogs,
  migrate,
  migrationStatus,
  openStorage,
  storageInputFromArgs,
  validateStorageOptions,
  type Storage,
} from '../storage/index.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC, STORAGE_FLAG_OPTIONS } from '../config/index.js';
import { loadCommandConfig } from '../config/command-config.js';
import { CliError } from './cli-error.js';
import type { CliIO } from './output.js';

export const DB_HELP = `Usage: ja4 db <migrate|status|import> [options]

  migrate [--dry-run]   apply the pending sql/ migrations in order, recording each
                        (name, checksum, time); refuses to run when an applied file
                        changed. --dry-run prints the SQL it would run, rendered for
                        this mode (embedded, server or --cluster), and changes nothing.
  status                list the migrations: applied (with the time), pending,
                        changed since applied, or applied but missing here.
  import FILE [--shift-to-now] [--format JSONEachRow|Native]
                        load an http_logs export (.jsonl or .native); --shift-to-now
                        moves every timestamp so that the newest row is now.

${STORAGE_ARG_HELP}${CONFIG_ARG_HELP}
Server mode also creates the users ja4_dashboard (read-only) and ja4_writer,
with the passwords in JA4_DB_DASHBOARD_PASSWORD and JA4_DB_WRITER_PASSWORD.

Exit status: 0 on success, 1 when the database refused or failed, 2 on bad usage.
`;

/** Storage errors as CLI errors: usage and input problems exit 2, the rest 1. */
export function storageCliError(prefix: string, err: unknown): never {
  if (err instanceof StorageError) {
    const usage = err.code === 'ERR_STORAGE_OPTION' || err.code === 'ERR_REFERENCE_DATA' || err.code === 'ERR_IMPORT';
    throw new CliError(`${prefix}: ${err.message} [${err.code}]`, usage ? 2 : 1);
  }
  throw err;
}

const DB_FLAGS = {
  'dry-run': { type: 'boolean' },
  'shift-to-now': { type: 'boolean' },
  format: { type: 'string' },
} as const;

function parse(sub: string, argv: string[], allowed: (keyof typeof DB_FLAGS)[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, ...DB_FLAGS, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 db --help" for usage.`);
  }
  for (const flag of Object.keys(DB_FLAGS) as (keyof typeof DB_FLAGS)[]) {
    if (parsed.values[flag] !== undefined && !allowed.includes(flag)) throw new CliError(`--${flag} is not an option of "ja4 db ${sub}"`);
  }
  return parsed;
}

/**
 * Opens the database of the storage flags, over storage.* of the
 * configuration (/etc/ja4/config.yaml, JA4_STORAGE_*; src/config/command-config.ts).
 */
export async function withStorage<T>(prefix: string, values: Record<string, unknown>, fn: (storage: Storage) => Promise<T>): Promise<T> {
  let storage: Storage | undefined;
  const cfg = loadCommandConfig(values, STORAGE_FLAG_OPTIONS);
  try {
    storage = await openStorage(validateStorageOptions({ ...storageInputFromArgs(cfg.values, cfg.env), ...cfg.storageExtra }));
    return await fn(storage);
  } catch (err) {
    return storageCliError(prefix, err);
  } finally {
    await storage?.close();
  }
}

async function runMigrate(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse('migrate', argv, ['dry-run']);
  if (values.help) return help(io);
  if (positionals.length > 0) throw new CliError(`ja4 db migrate: unexpected argument "${positionals[0]}"`);
  return withStorage('ja4 db migrate', values, async (storage) => {
    const result = await migrate(storage, { dryRun: values['dry-run'] ?? false, log: (l) => io.err(`${l}\n`) });
    if (result.dryRun) {
      for (const m of result.applied) {
        io.out(`-- ${m.name}${m.statements.length === 0 ? ' (nothing for this mode)' : ''}\n`);
        for (const s of m.statements) io.out(`${s};\n\n`);
      }
      io.out(`-- dry run: ${result.applied.length} pending, ${result.alreadyApplied} already applied, nothing changed\n`);
    } else {
      io.out(`${result.applied.length} applied, ${result.alreadyApplied} already applied\n`);
    }
    return 0;
  });
}

async function runStatus(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse('status', argv, []);
  if (values.help) return help(io);
  if (positionals.length > 0) throw new CliError(`ja4 db status: unexpected argument "${positionals[0]}"`);
  return withStorage('ja4 db status', values, async (storage) => {
    const status = await migrationStatus(storage);
    const width = Math.max(...status.map((s) => s.name.length), 9);
    io.out(`${'migration'.padEnd(width)}  ${'state'.padEnd(8)}  applied at (UTC)\n`);
    for (const s of status) io.out(`${s.name.padEnd(width)}  ${s.state.padEnd(8)}  ${s.appliedAt ?? ''}\n`);
    const pending = status.filter((s) => s.state === 'pending').length;
    const changed = status.filter((s) => s.state === 'changed').length;
    io.out(`${status.length - pending} applied, ${pending} pending${changed ? `, ${changed} CHANGED since applied` : ''} (${storage.mode}${storage.options.cluster ? `, cluster ${storage.options.cluster}` : ''})\n`);
    return changed > 0 ? 1 : 0;
  });
}

async function runImport(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse('import', argv, ['shift-to-now', 'format']);
  if (values.help) return help(io);
  if (positionals.length !== 1) throw new CliError('ja4 db import: give exactly one FILE\nRun "ja4 db --help" for usage.');
  const file = positionals[0]!;
  return withStorage('ja4 db import', values, async (storage) => {
    const r = await importHttpLogs(storage, file, { format: values.format as 'JSONEachRow' | 'Native' | undefined, shiftToNow: values['shift-to-now'] ?? false });
    io.out(`${r.rows} rows imported from ${file} (${r.format})${r.shiftSeconds ? `, timestamps shifted by ${r.shiftSeconds} s` : ''}\n`);
    if (r.expired > 0) {
      io.err(`ja4 db import: ${r.expired} of them are older than the http_logs retention (${storage.options.retention.http_logs} days): the hourly aggregates count them, http_logs drops them (--shift-to-now moves them to now)\n`);
    }
    return 0;
  });
}

function help(io: CliIO): number {
  io.out(DB_HELP);
  return 0;
}

export async function runDbCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'migrate':
      return runMigrate(rest, io);
    case 'status':
      return runStatus(rest, io);
    case 'import':
      return runImport(rest, io);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.out(DB_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new CliError(`ja4 db: unknown subcommand "${sub}"\n\n${DB_HELP}`);
  }
}
