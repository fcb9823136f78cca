// The storage layer: one owner of the database per process (main thread),
// schema migrations, reference data, imports and the dashboard's queries.
export * from './errors.js';
export * from './options.js';
export * from './tables.js';
export { INSERT_FILES_DIR, openStorage, type Storage, type QueryParams } from './database.js';
export * from './sql-template.js';
export * from './migrations.js';
export * from './reference-data.js';
export * from './ip-text.js';
export * from './http-log-import.js';
export * from './dashboard-queries.js';
