// The one logger of a long-running service command (ja4 run, capture,
// dashboard, detector run/service): JSON lines on stderr by default
// (the journal keeps them), from logging.level/logging.format of the
// configuration, JA4_LOGGING_* or --log-level/--log-format. Short commands
// (pcap, simulate, db, user, config...) keep their human output instead.
import { createLogger, LOG_FORMATS, LOG_LEVELS, type Logger, type LogLevel } from '../config/index.js';
import { CliError } from './cli-error.js';
import type { CliIO } from './output.js';

export const LOG_ARG_SPEC = {
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

export const LOG_ARG_HELP = `Logs (stderr, one line per event):
  --log-level L            debug, info (default), warn or error (logging.level)
  --log-format F           json (default: one object per line with ts, level, service,
                           msg and fields) or text (for a terminal) (logging.format)
`;

/**
 * @param values the command's flags with the configured ones filled in
 *   (loadCommandConfig(), whose flag map includes LOG_FLAG_OPTIONS)
 */
export function serviceLogger(service: string, values: Record<string, unknown>, io: CliIO): Logger {
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  const format = (values['log-format'] as string | undefined) ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new CliError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got "${format}"`);
  return createLogger({ service, level: level as LogLevel, format: format as 'json' | 'text', write: (line) => io.err(line) });
}

/** An error as log fields: its message and code (the stack only at debug, via the Error itself). */
export function errorFields(err: unknown): { error: string; code?: string } {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' ? { error: message, code: e.code } : { error: message };
}
