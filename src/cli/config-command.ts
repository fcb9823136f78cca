// `ja4 config check|show`: validate the configuration file (with the
// environment overrides the services would see) and print what is in effect.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ConfigError, DEFAULT_CONFIG_FILE, describeSource, loadConfigWithSources, OPTIONS, type LoadedConfig } from '../config/index.js';
import { renderConfigTemplate } from '../config/template.js';
import { CliError } from './cli-error.js';
import type { CliIO } from './output.js';

export const CONFIG_HELP = `Usage: ja4 config <check|show|template> [FILE] [options]

  check [FILE]   validate FILE (default: $JA4_CONFIG, else ${DEFAULT_CONFIG_FILE}) and the
                 JA4_<SECTION>_<KEY> environment variables; every problem is printed as
                 FILE:LINE: section.key must be ..., got "..." (or the variable's name)
  show [FILE]    print the configuration in effect as YAML (passwords hidden);
                 --sources adds where each value comes from
  template       print the commented default configuration (every option, its
                 default and its environment variable): /etc/ja4/config.yaml as shipped

Options:
  --no-env       ignore the environment (check or show the file alone)
  --sources      (show) comment each value with its file line, variable or "default"

Exit status: 0 when valid, 2 when FILE is missing or invalid (each problem on stderr).
Options and their environment variables: docs/configuration.md.
`;

const FLAGS = {
  'no-env': { type: 'boolean' },
  sources: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** check: the file must exist; show: without a named file, the defaults are what a service would run with. */
function load(file: string | undefined, noEnv: boolean, requireFile: boolean): LoadedConfig {
  const env = noEnv ? {} : process.env;
  const named = file ?? (process.env.JA4_CONFIG || undefined);
  return loadConfigWithSources({ file: named ?? DEFAULT_CONFIG_FILE, requireFile: requireFile || named !== undefined, env });
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: FLAGS });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 config --help" for usage.`);
  }
}

function runCheck(argv: string[], io: CliIO): number {
  const { values, positionals } = parse(argv);
  if (values.help) return help(io);
  if (positionals.length > 1) throw new CliError(`ja4 config check: unexpected argument "${positionals[1]}"`);
  if (values.sources) throw new CliError('--sources is an option of "ja4 config show"');
  let loaded: LoadedConfig;
  try {
    loaded = load(positionals[0], values['no-env'] ?? false, true);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${err.message}\n`);
    io.err(`${err.issues.length} problem${err.issues.length === 1 ? '' : 's'} found\n`);
    return 2;
  }
  const counts = { file: 0, env: [] as string[] };
  for (const s of loaded.sources.values()) {
    if (s.kind === 'file') counts.file++;
    if (s.kind === 'env') counts.env.push(s.name);
  }
  const env = counts.env.length ? `, ${counts.env.length} from the environment (${counts.env.sort().join(', ')})` : '';
  io.out(`${loaded.file}: OK (${counts.file} of ${OPTIONS.length} options set in the file${env})\n`);
  return 0;
}

function runShow(argv: string[], io: CliIO): number {
  const { values, positionals } = parse(argv);
  if (values.help) return help(io);
  if (positionals.length > 1) throw new CliError(`ja4 config show: unexpected argument "${positionals[1]}"`);
  let loaded: LoadedConfig;
  try {
    loaded = load(positionals[0], values['no-env'] ?? false, false);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  const shown = structuredClone(loaded.config) as unknown as Record<string, Record<string, unknown>>;
  for (const o of OPTIONS) {
    if (!o.secret) continue;
    const [section, key] = o.path.split('.') as [string, string];
    if (shown[section]![key] !== '') shown[section]![key] = '********';
  }
  // a password can also ride in the URL (http://user:pass@host)
  const url = loaded.config.storage.clickhouse_url;
  if (url !== '') {
    const u = new URL(url);
    if (u.password !== '') {
      u.password = '********';
      shown.storage!.clickhouse_url = u.toString();
    }
  }
  // The mode back in octal, as it is written in the file.
  shown.sockets!.mode = `0${(loaded.config.sockets.mode).toString(8)}`;
  let text = stringify(shown, { lineWidth: 0 });
  if (values.sources) text = annotate(text, loaded);
  io.out(text);
  return 0;
}

/** Adds `  # <source>` to each option's line of the stringified YAML. */
function annotate(text: string, loaded: LoadedConfig): string {
  const stack: string[] = [];
  return text
    .split('\n')
    .map((line) => {
      const m = /^( *)([A-Za-z_][A-Za-z0-9_]*):(.*)$/.exec(line);
      if (!m) return line;
      const depth = m[1]!.length / 2;
      stack.length = depth;
      stack.push(m[2]!);
      const source = loaded.sources.get(stack.join('.'));
      return source ? `${line}  # ${describeSource(source)}` : line;
    })
    .join('\n');
}

function help(io: CliIO): number {
  io.out(CONFIG_HELP);
  return 0;
}

export async function runConfigCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check':
      return runCheck(rest, io);
    case 'show':
      return runShow(rest, io);
    case 'template':
      if (rest.length > 0 && rest[0] !== '--help' && rest[0] !== '-h') throw new CliError(`ja4 config template: unexpected argument "${rest[0]}"`);
      io.out(rest.length > 0 ? CONFIG_HELP : renderConfigTemplate());
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.out(CONFIG_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new CliError(`ja4 config: unknown subcommand "${sub}"\n\n${CONFIG_HELP}`);
  }
}
