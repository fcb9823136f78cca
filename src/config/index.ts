// The configuration: /etc/ja4/config.yaml, JA4_<SECTION>_<KEY> variables and
// flags, validated into a typed Config (docs/configuration.md). The JSON-lines
// logger lives here too: both are what every service starts with.
export { CONFIG_ARG_HELP, CONFIG_ARG_SPEC, configOptionsFromArgs } from './args.js';
export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { DEFAULT_CONFIG_FILE, describeSource, loadConfig, loadConfigWithSources, parseSetFlag, type ConfigOverride, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { createLogger, LOG_FORMATS, LOG_LEVELS, silentLogger, type LogFields, type Logger, type LoggerOptions, type LogLevel } from './logger.js';
export { DEFAULT_BPF, envName, OPTIONS, SECTIONS, describeKind, type OptionSpec } from './schema.js';
export type * from './types.js';
export { CAPTURE_FLAG_OPTIONS, DASHBOARD_FLAG_OPTIONS, DETECTOR_RUN_FLAG_OPTIONS, LOG_FLAG_OPTIONS, RUN_FLAG_OPTIONS, STORAGE_FLAG_OPTIONS } from './flag-maps.js';
export type { FlagTarget } from './args.js';
