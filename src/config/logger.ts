// Logs as JSON lines with levels, no dependency: one object per line,
// {"ts","level","service","msg",...fields}, written with one write() call so
// lines from several threads never interleave within a line.
// Under systemd (JOURNAL_STREAM set) each line starts with the syslog
// priority, "<3>" to "<7>": journald strips it and files the entry at that
// priority, so `journalctl -p warning -u ja4-correlator` works (sd-daemon(3):
// "the log level prefix ... <4> for warning").

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS = ['json', 'text'] as const;
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SYSLOG: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface LoggerOptions {
  /** e.g. "ja4-correlator" */
  service: string;
  /** lowest level written; default info */
  level?: LogLevel;
  /** json (default) or text (for a terminal) */
  format?: 'json' | 'text';
  /** where lines go; default process.stderr */
  write?: (line: string) => void;
  /** default: Date.now */
  now?: () => number;
  /** prefix lines with <N> for journald; default: whether JOURNAL_STREAM is set */
  journal?: boolean;
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger adding these fields to every line (e.g. { stage: 'writer' }). */
  child(fields: LogFields): Logger;
  isEnabled(level: LogLevel): boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  if (!(level in RANK)) throw new TypeError(`logger level must be one of debug, info, warn, error, got "${String(level)}"`);
  const format = opts.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new TypeError(`logger format must be json or text, got "${String(format)}"`);
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
  return make({});

  function make(bound: LogFields): Logger {
    const log = (lvl: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[lvl] < RANK[level]) return;
      const ts = new Date(now()).toISOString();
      const all = fields ? { ...bound, ...fields } : bound;
      const prefix = journal ? `<${SYSLOG[lvl]}>` : '';
      write(`${prefix}${format === 'json' ? jsonLine(ts, lvl, opts.service, msg, all) : textLine(ts, lvl, opts.service, msg, all)}\n`);
    };
    return {
      level,
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (f) => make({ ...bound, ...f }),
      isEnabled: (l) => RANK[l] >= RANK[level],
    };
  }
}

/** A logger that writes nothing (tests, library callers that want quiet). */
export function silentLogger(): Logger {
  return createLogger({ service: 'silent', level: 'error', write: () => undefined, journal: false });
}

/** Errors as their name, message, code and stack; bigints as strings. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.stack) out.stack = value.stack;
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function jsonLine(ts: string, level: LogLevel, service: string, msg: string, fields: LogFields): string {
  // ts, level, service and msg first and never overwritten by a field.
  const record = { ts, level, service, msg, ...omit(fields, ['ts', 'level', 'service', 'msg']) };
  try {
    return JSON.stringify(record, replacer);
  } catch (err) {
    // A circular field must not lose the line itself.
    return JSON.stringify({ ts, level, service, msg, log_error: `fields not serializable: ${(err as Error).message}` });
  }
}

function textLine(ts: string, level: LogLevel, service: string, msg: string, fields: LogFields): string {
  const parts = Object.entries(fields).map(([k, v]) => {
    let s: string;
    try {
      s = typeof v === 'string' ? v : JSON.stringify(v, replacer) ?? String(v);
    } catch {
      s = '[unserializable]';
    }
    return `${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
  });
  return `${ts} ${level.toUpperCase().padEnd(5)} ${service}: ${msg}${parts.length ? ` ${parts.join(' ')}` : ''}`;
}

function omit(fields: LogFields, keys: string[]): LogFields {
  if (!keys.some((k) => k in fields)) return fields;
  const out = { ...fields };
  for (const k of keys) delete out[k];
  return out;
}
