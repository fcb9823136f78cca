// The TLS event contract's JSON Schema (schema/tls-event.schema.json),
// compiled once, for receivers that must drop schema-invalid events with a
// counter (the correlator) and for the tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSchema, type JsonSchema, type SchemaError } from './json-schema.js';

// src/capture or dist/capture -> repository (or package) root
export const TLS_EVENT_SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema', 'tls-event.schema.json');

let check: ((value: unknown) => SchemaError[]) | undefined;

export function loadTlsEventSchema(): JsonSchema {
  return JSON.parse(readFileSync(TLS_EVENT_SCHEMA_PATH, 'utf8')) as JsonSchema;
}

/** Errors of one parsed event against the schema; empty when valid. */
export function checkTlsEvent(event: unknown): SchemaError[] {
  check ??= compileSchema(loadTlsEventSchema());
  return check(event);
}
