// A real logger (src/config/logger.ts, JSON format) whose lines are kept in
// memory, for tests that check what a service logs and at which level.
import { createLogger, type Logger } from '../../src/config/index.js';

export interface LogRecord {
  ts: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  service: string;
  msg: string;
  [field: string]: unknown;
}

export interface MemoryLogger {
  log: Logger;
  /** the raw lines, newline included */
  lines: string[];
  /** every line parsed (a line that is not JSON throws: that is a bug) */
  records(): LogRecord[];
}

export function memoryLogger(service = 'ja4-test', level: 'debug' | 'info' | 'warn' | 'error' = 'debug'): MemoryLogger {
  const lines: string[] = [];
  const log = createLogger({ service, level, journal: false, write: (l) => void lines.push(l) });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as LogRecord) };
}
