// How a command adopts /etc/ja4/config.yaml without changing how it parses
// its own flags: the file (--config, else JA4_CONFIG, else the default file
// when it exists) and the JA4_* environment are loaded and checked, and every
// option set there (not left at its default) is filled in as the command's
// flag when that flag was not typed. A typed flag therefore wins, the
// environment beats the file, and the command's own flag validation and
// defaults stay exactly as they were (a default that depends on another flag,
// like ja4 run's spool next to --db-dir, keeps working).
//
// A bad value throws ConfigError naming the option and where it is
// (`/etc/ja4/config.yaml:12: correlator.window_ms must be ...`); the CLI
// turns it into exit status 2 (src/cli/main.ts).
import type { FlagTarget } from './args.js';
import { configOptionsFromArgs } from './args.js';
import { loadConfigWithSources } from './load.js';
import type { Config, ValueSource } from './types.js';

export interface CommandConfig {
  config: Config;
  /** the file read, or undefined (no file: defaults and environment) */
  file: string | undefined;
  sources: ReadonlyMap<string, ValueSource>;
  /** the parseArgs values with the configured options filled in for flags not given */
  values: Record<string, unknown>;
  /**
   * The environment with the storage options that have no flag (password,
   * retention) under the storage layer's names, for storageInputFromArgs().
   */
  env: NodeJS.ProcessEnv;
  /** the option was set in the file, the environment or by a flag (not its default) */
  isSet(path: string): boolean;
  /** storage options without a flag or storage-layer variable (request timeout), to spread over the storage input */
  storageExtra: { requestTimeoutMs?: number };
}

const RETENTION_FAMILIES = ['raw', 'http_logs', 'aggregates', 'scores', 'anomalies', 'audit', 'reference', 'classifications'] as const;

/** A configured value as the text its flag takes (modes back to octal). */
function flagText(path: string, value: unknown): string {
  if (path === 'sockets.mode' && typeof value === 'number') return `0${value.toString(8).padStart(3, '0')}`;
  return String(value);
}

/**
 * @param values what parseArgs returned (with CONFIG_ARG_SPEC among its options)
 * @param flags the command's flags and their options (src/config/flag-maps.ts)
 */
export function loadCommandConfig(values: Record<string, unknown>, flags: Readonly<Record<string, FlagTarget>> = {}, env: NodeJS.ProcessEnv = process.env): CommandConfig {
  // Only --config and --set go to the loader: the command checks its own flags.
  const { file, overrides } = configOptionsFromArgs({ config: values.config, set: values.set }, {}, env);
  const loaded = loadConfigWithSources({ file, env, overrides });
  const isSet = (path: string): boolean => (loaded.sources.get(path)?.kind ?? 'default') !== 'default';
  const get = (path: string): unknown => path.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], loaded.config);

  const merged: Record<string, unknown> = { ...values };
  for (const [flag, target] of Object.entries(flags)) {
    const path = typeof target === 'string' ? target : target.path;
    if (merged[flag] !== undefined || !isSet(path)) continue;
    const v = get(path);
    if (typeof target !== 'string') {
      // --no-x: given when the option is false
      if (v === false) merged[flag] = true;
    } else if (typeof v === 'boolean') {
      if (v) merged[flag] = true;
    } else {
      merged[flag] = flagText(path, v);
    }
  }

  const storageEnv: NodeJS.ProcessEnv = { ...env };
  const s = loaded.config.storage;
  if (isSet('storage.clickhouse_password')) storageEnv.CLICKHOUSE_PASSWORD = s.clickhouse_password;
  if (RETENTION_FAMILIES.some((f) => isSet(`storage.retention.${f}`))) {
    // the file's days, then the environment's own JA4_DB_RETENTION entries
    // (the last entry of a family wins): setting one family in the file
    // must not undo the variable's other families
    const fromFile = RETENTION_FAMILIES.map((f) => `${f}=${s.retention[f]}`).join(',');
    storageEnv.JA4_DB_RETENTION = env.JA4_DB_RETENTION ? `${fromFile},${env.JA4_DB_RETENTION}` : fromFile;
  }
  const storageExtra = isSet('storage.request_timeout_ms') ? { requestTimeoutMs: s.request_timeout_ms } : {};
  return { config: loaded.config, file: loaded.file, sources: loaded.sources, values: merged, env: storageEnv, isSet, storageExtra };
}
