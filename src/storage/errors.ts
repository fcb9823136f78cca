// Errors of the storage layer. Every error carries a stable `code` that
// callers (CLI, pipeline, dashboard) switch on; messages name the option,
// file, line or migration at fault.

export type StorageErrorCode =
  /** an option is missing or malformed (the message names it) */
  | 'ERR_STORAGE_OPTION'
  /** the embedded engine was opened from a worker thread */
  | 'ERR_STORAGE_THREAD'
  /** a second embedded data directory was opened in this process */
  | 'ERR_STORAGE_ALREADY_OPEN'
  /** the storage handle was used after close() */
  | 'ERR_STORAGE_CLOSED'
  /** a query failed in the engine or on the server */
  | 'ERR_STORAGE_QUERY'
  /** a migration file is misnamed, or its template is invalid */
  | 'ERR_MIGRATION_FILE'
  /** an applied migration's file changed since it was applied */
  | 'ERR_MIGRATION_CHANGED'
  /** the schema exists but this node's ledger is empty (re-applying would re-run the backfills) */
  | 'ERR_MIGRATION_LEDGER'
  /** a statement of a migration failed */
  | 'ERR_MIGRATION_FAILED'
  /** a reference CSV file is missing a column or has a bad row */
  | 'ERR_REFERENCE_DATA'
  /** an import file cannot be read or has an unknown format */
  | 'ERR_IMPORT';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function optionError(option: string, problem: string): StorageError {
  return new StorageError('ERR_STORAGE_OPTION', `${option} ${problem}`);
}

/** The engine's message without the stack trace part ClickHouse appends. */
export function engineMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*Stack trace:[\s\S]*$/, '').trim();
}

export function queryError(what: string, err: unknown): StorageError {
  return new StorageError('ERR_STORAGE_QUERY', `${what}: ${engineMessage(err)}`, { cause: err });
}
