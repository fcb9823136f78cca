// loadConfig(): /etc/ja4/config.yaml, then JA4_<SECTION>_<KEY> environment
// variables, then command-line flags, each checked against schema.ts.
// Every problem is collected (not only the first) and reported with where
// it came from: `config.yaml:12: correlator.window_ms must be a positive
// integer, got "abc"`, `JA4_CAPTURE_SNAPLEN: ...`, `--set capture.snaplen: ...`.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { coerceValue, typeExpectation, type RawValue } from './coerce.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { envName, OPTIONS, OPTIONS_BY_ENV, OPTIONS_BY_PATH, SECTIONS, type OptionSpec } from './schema.js';
import type { Config, ValueSource } from './types.js';

export const DEFAULT_CONFIG_FILE = '/etc/ja4/config.yaml';
/** A configuration file is small; anything bigger is the wrong file. */
const MAX_FILE_BYTES = 1 << 20;

/** A command-line override: `--iface eth0` is { path: 'capture.iface', value: 'eth0', flag: '--iface' }. */
export interface ConfigOverride {
  path: string;
  value: RawValue;
  flag: string;
}

export interface LoadConfigOptions {
  /** The file; default: $JA4_CONFIG, else /etc/ja4/config.yaml. */
  file?: string;
  /** The file must exist. Default: true when the file was named (option or
   * JA4_CONFIG), false for the implicit /etc/ja4/config.yaml (defaults apply). */
  requireFile?: boolean;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Flags, applied last (they win). */
  overrides?: readonly ConfigOverride[];
}

export interface LoadedConfig {
  config: Config;
  /** the file read, or undefined when there was none */
  file: string | undefined;
  /** where each option's value came from, by path */
  sources: ReadonlyMap<string, ValueSource>;
}

/** The storage layer's environment names (docs/storage.md), read below the
 * JA4_STORAGE_* ones so existing setups keep working. */
const STORAGE_ENV_ALIASES: Readonly<Record<string, string>> = {
  JA4_DB_DIR: 'storage.db_dir',
  CLICKHOUSE_URL: 'storage.clickhouse_url',
  CLICKHOUSE_USER: 'storage.clickhouse_user',
  CLICKHOUSE_PASSWORD: 'storage.clickhouse_password',
  CLICKHOUSE_CA_CERT: 'storage.clickhouse_ca',
  CLICKHOUSE_CERT: 'storage.clickhouse_cert',
  CLICKHOUSE_KEY: 'storage.clickhouse_key',
  JA4_DB_CLUSTER: 'storage.cluster',
};

/** The configuration, typed; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  return loadConfigWithSources(opts).config;
}

export function loadConfigWithSources(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const named = opts.file ?? (env.JA4_CONFIG || undefined);
  const file = named ?? DEFAULT_CONFIG_FILE;
  const requireFile = opts.requireFile ?? named !== undefined;

  const issues: ConfigIssue[] = [];
  const values = new Map<string, unknown>();
  const sources = new Map<string, ValueSource>();
  const set = (spec: OptionSpec, raw: RawValue, source: ValueSource, where: string, sourceText?: string) => {
    const r = coerceValue(spec, raw, sourceText);
    if (!r.ok) {
      issues.push({ where, path: spec.path, message: `${spec.path} must be ${r.expected}, got ${r.got}` });
      return;
    }
    values.set(spec.path, r.value);
    sources.set(spec.path, source);
  };

  for (const spec of OPTIONS) {
    const r = coerceValue(spec, spec.default);
    if (!r.ok) throw new Error(`schema.ts: the default of ${spec.path} is invalid (${r.got})`); // a bug, not a user error
    values.set(spec.path, r.value);
    sources.set(spec.path, { kind: 'default' });
  }

  const text = readConfigFile(file, requireFile, issues);
  const fileRead = text !== undefined;
  if (text !== undefined) readYaml(file, text, issues, set);

  for (const [name, path] of Object.entries(STORAGE_ENV_ALIASES)) {
    const v = env[name];
    if (v !== undefined && v !== '' && env[envName(path)] === undefined) set(OPTIONS_BY_PATH.get(path)!, v, { kind: 'env', name }, name);
  }
  for (const [name, v] of Object.entries(env)) {
    if (!name.startsWith('JA4_') || v === undefined) continue;
    const spec = OPTIONS_BY_ENV.get(name);
    if (spec) {
      set(spec, v, { kind: 'env', name }, name);
    } else if (SECTIONS.some((s) => name.startsWith(`JA4_${s.toUpperCase()}_`))) {
      issues.push({ where: name, message: `unknown option${suggest(name, [...OPTIONS_BY_ENV.keys()])}` });
    }
  }

  for (const o of opts.overrides ?? []) {
    const spec = OPTIONS_BY_PATH.get(o.path);
    if (!spec) {
      issues.push({ where: o.flag, message: `unknown option "${o.path}"${suggest(o.path, [...OPTIONS_BY_PATH.keys()])}` });
      continue;
    }
    set(spec, o.value, { kind: 'flag', name: o.flag }, o.flag);
  }

  crossChecks(values, sources, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: nest(values) as unknown as Config, file: fileRead ? file : undefined, sources };
}

/** "correlator.window_ms=500" (the --set flag) as an override. */
export function parseSetFlag(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError([{ where: '--set', message: `expects SECTION.KEY=VALUE, got "${text}"` }]);
  const path = text.slice(0, eq).trim();
  return { path, value: text.slice(eq + 1), flag: `--set ${path}` };
}

/** Where a source points, as used at the start of messages. */
export function describeSource(s: ValueSource): string {
  switch (s.kind) {
    case 'file':
      return `${s.file}:${s.line}`;
    case 'env':
      return s.name;
    case 'flag':
      return s.name;
    case 'default':
      return 'default';
  }
}

function readConfigFile(file: string, required: boolean, issues: ConfigIssue[]): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      issues.push({ where: file, message: 'is not a regular file' });
      return undefined;
    }
    if (st.size > MAX_FILE_BYTES) {
      issues.push({ where: file, message: `is ${st.size} bytes; a configuration file is at most ${MAX_FILE_BYTES}` });
      return undefined;
    }
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && !required) return undefined;
    issues.push({ where: file, message: e.code === 'ENOENT' ? 'does not exist' : `cannot be read: ${e.message}` });
    return undefined;
  }
}

type Setter = (spec: OptionSpec, raw: RawValue, source: ValueSource, where: string, sourceText?: string) => void;

function readYaml(file: string, text: string, issues: ConfigIssue[], set: Setter): void {
  const lines = new LineCounter();
  // prettyErrors (the default) fills each error's linePos.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined, fallback = 1): number => (node?.range ? lines.linePos(node.range[0]).line : fallback);
  const at = (line: number) => `${file}:${line}`;
  for (const e of [...doc.errors, ...doc.warnings]) {
    const line = e.linePos?.[0]?.line ?? 1;
    issues.push({ where: at(line), message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  if (doc.errors.length > 0) return;
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return; // empty file: defaults
  if (!isMap(root)) {
    issues.push({ where: at(lineOf(root)), message: `the file must be a mapping of sections (${SECTIONS.join(', ')})` });
    return;
  }
  walkMap(root, '');

  function walkMap(map: YAMLMap, prefix: string): void {
    for (const pair of map.items as Pair<Node, Node | null>[]) {
      const keyNode = pair.key;
      const line = lineOf(keyNode);
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        issues.push({ where: at(line), message: `${prefix || 'the top level'} has a key that is not a name` });
        continue;
      }
      const path = prefix ? `${prefix}.${keyNode.value}` : keyNode.value;
      const value = pair.value;
      const spec = OPTIONS_BY_PATH.get(path);
      if (spec) {
        if (value !== null && !isScalar(value)) {
          issues.push({ where: at(line), path, message: `${path} must be ${typeExpectation(spec.kind)}, got a ${isSeq(value) ? 'list' : 'mapping'}` });
          continue;
        }
        const raw = value === null ? null : (value.value as RawValue);
        // The scalar as written: `mode: 0660` must stay octal, not YAML's decimal 660.
        const source = value && typeof value.source === 'string' && value.type === 'PLAIN' ? value.source : undefined;
        set(spec, raw, { kind: 'file', file, line }, at(line), source);
        continue;
      }
      const isGroup = OPTIONS.some((o) => o.path.startsWith(`${path}.`));
      if (!isGroup) {
        const siblings = OPTIONS.map((o) => o.path).filter((p) => p.startsWith(prefix ? `${prefix}.` : ''));
        const known = prefix ? '' : ` (sections: ${SECTIONS.join(', ')})`;
        issues.push({ where: at(line), path, message: `unknown ${prefix ? 'option' : 'section'} "${path}"${suggest(path, prefix ? siblings : [...SECTIONS]) || known}` });
        continue;
      }
      if (value === null || (isScalar(value) && value.value === null)) continue; // `capture:` with nothing under it
      if (!isMap(value)) {
        issues.push({ where: at(line), path, message: `${path} must be a mapping of options, got ${isSeq(value) ? 'a list' : `"${String((value as { value?: unknown }).value)}"`}` });
        continue;
      }
      walkMap(value, path);
    }
  }
}

/** Checks that involve two options; reported at the option to change. */
function crossChecks(values: Map<string, unknown>, sources: Map<string, ValueSource>, issues: ConfigIssue[]): void {
  const str = (p: string) => values.get(p) as string;
  const where = (p: string) => describeSource(sources.get(p)!);
  const url = str('storage.clickhouse_url');
  if (str('storage.cluster') !== '' && url === '') {
    issues.push({ where: where('storage.cluster'), path: 'storage.cluster', message: 'storage.cluster needs storage.clickhouse_url (the embedded engine is a single node)' });
  }
  for (const k of ['storage.clickhouse_ca', 'storage.clickhouse_cert', 'storage.clickhouse_key']) {
    if (str(k) !== '' && !url.startsWith('https:')) issues.push({ where: where(k), path: k, message: `${k} needs an https:// storage.clickhouse_url` });
  }
  if ((str('storage.clickhouse_cert') === '') !== (str('storage.clickhouse_key') === '')) {
    const k = str('storage.clickhouse_cert') === '' ? 'storage.clickhouse_key' : 'storage.clickhouse_cert';
    issues.push({ where: where(k), path: k, message: 'storage.clickhouse_cert and storage.clickhouse_key go together' });
  }
  if (str('sockets.http_path') === str('sockets.network_path')) {
    issues.push({ where: where('sockets.network_path'), path: 'sockets.network_path', message: 'sockets.network_path must differ from sockets.http_path' });
  }
  const ports = new Map<number, string>();
  const dashboardPort = Number(/:(\d+)$/.exec(str('dashboard.listen'))?.[1]);
  ports.set(dashboardPort, 'dashboard.listen');
  for (const k of ['all', 'capture', 'correlator', 'detector', 'dashboard'].map((s) => `metrics.port.${s}`)) {
    const p = values.get(k) as number;
    const other = ports.get(p);
    if (other !== undefined) issues.push({ where: where(k), path: k, message: `${k} (${p}) is already used by ${other}` });
    else ports.set(p, k);
  }
}

/** { 'a.b': 1, 'a.c.d': 2 } -> { a: { b: 1, c: { d: 2 } } } */
function nest(values: Map<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, v] of values) {
    const parts = path.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = v;
  }
  return out;
}

/** ` (did you mean "x"?)` for the closest candidate within two edits. */
function suggest(word: string, candidates: string[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
