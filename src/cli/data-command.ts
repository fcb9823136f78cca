// `ja4 data load [DIR]`: validates and loads the reference CSV files.
import { parseArgs } from 'node:util';
import { DEFAULT_REFERENCE_DIR, REFERENCE_SPECS, STORAGE_ARG_HELP, STORAGE_ARG_SPEC, loadReferenceData } from '../storage/index.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC } from '../config/index.js';
import { CliError } from './cli-error.js';
import { withStorage } from './db-command.js';
import type { CliIO } from './output.js';

export const DATA_HELP = `Usage: ja4 data load [DIR] [options]

Validates the reference CSV files of DIR (default: the bundled ${DEFAULT_REFERENCE_DIR})
and replaces the content of their tables, then reloads the dictionaries. A bad
row stops everything before any change, naming the file, line and column.
Files absent from DIR keep their current content. Known files:
${REFERENCE_SPECS.map((s) => `  ${s.file.padEnd(22)} ${s.columns.join(',')}`).join('\n')}

ip-to-asn.csv is iplocate.io's format as published; crawler-rules.csv lists are
space-separated and its regexes are RE2; ja4plus-mapping.csv is FoxIO's.

${STORAGE_ARG_HELP}${CONFIG_ARG_HELP}`;

export async function runDataCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(DATA_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'load') throw new CliError(`ja4 data: unknown subcommand "${sub}"\n\n${DATA_HELP}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 data --help" for usage.`);
  }
  if (parsed.values.help) {
    io.out(DATA_HELP);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new CliError('ja4 data load: give at most one DIR');
  const dir = parsed.positionals[0] ?? DEFAULT_REFERENCE_DIR;
  return withStorage('ja4 data load', parsed.values, async (storage) => {
    const loaded = await loadReferenceData(storage, dir, (l) => io.err(`${l}\n`));
    io.out(`${loaded.length} reference files loaded from ${dir} (${loaded.reduce((n, f) => n + f.rows, 0)} rows)\n`);
    return 0;
  });
}
