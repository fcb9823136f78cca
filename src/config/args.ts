// What a command adds to its parseArgs options to take the configuration:
// --config FILE and repeatable --set SECTION.KEY=VALUE, plus its own flags
// mapped onto options (e.g. --iface -> capture.iface). Flags win over the
// environment, which wins over the file.
import type { LoadConfigOptions, ConfigOverride } from './load.js';
import { parseSetFlag } from './load.js';

export const CONFIG_ARG_SPEC = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

export const CONFIG_ARG_HELP = `Configuration:
  --config FILE            configuration file (JA4_CONFIG; default /etc/ja4/config.yaml if present)
  --set SECTION.KEY=VALUE  override one option (repeatable); JA4_SECTION_KEY does the same
`;

/** A flag's option: its path, or { path, negate } for a --no-x boolean flag. */
export type FlagTarget = string | { path: string; negate: true };

/**
 * LoadConfigOptions from parseArgs values.
 * @param flagPaths the command's own flags and the option each sets, e.g.
 *   { iface: 'capture.iface', 'no-raw-tables': { path: 'correlator.raw_tables', negate: true } }
 *   (src/config/flag-maps.ts has them for ja4 run, capture, dashboard and
 *   detector); flags not given are skipped.
 */
export function configOptionsFromArgs(values: Record<string, unknown>, flagPaths: Readonly<Record<string, FlagTarget>> = {}, env: NodeJS.ProcessEnv = process.env): LoadConfigOptions {
  const overrides: ConfigOverride[] = [];
  for (const [flag, target] of Object.entries(flagPaths)) {
    const v = values[flag];
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') continue;
    if (typeof target === 'string') overrides.push({ path: target, value: v, flag: `--${flag}` });
    else overrides.push({ path: target.path, value: v === true ? false : v === false ? true : v, flag: `--${flag}` });
  }
  const sets = values.set;
  if (Array.isArray(sets)) for (const s of sets) overrides.push(parseSetFlag(String(s)));
  const file = typeof values.config === 'string' ? values.config : undefined;
  return { file, env, overrides };
}
