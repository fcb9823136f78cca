// Reference data: the CSV files behind the enrichment dictionaries.
// `ja4 data load DIR` validates every known file of DIR completely (a bad
// row names its file, line and column, and nothing is changed), then
// replaces each table's content and reloads the dictionaries.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { engineIpFamily } from './ip-text.js';
import { StorageError, engineMessage } from './errors.js';
import type { Storage } from './database.js';

/** data/reference/ at the package root: the small default files. */
export const DEFAULT_REFERENCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'reference');

type Row = Record<string, unknown>;

class RowError extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

interface ReferenceSpec {
  file: string;
  table: string;
  dictionaries: string[];
  /** required header columns, in any order */
  columns: readonly string[];
  /** one CSV record -> table rows */
  toRows(v: Record<string, string>): Row[];
  /** RE2 patterns of a record, checked by the engine (its regex dialect) */
  regexes?(v: Record<string, string>): { column: string; pattern: string }[];
  /** final pass over all rows (e.g. merging duplicates) */
  finish?(rows: Row[]): Row[];
}

// ---- field validators: they throw RowError naming the column -------------

function cidr(column: string, value: string): string {
  const [addr, bits, extra] = value.trim().split('/');
  const family = engineIpFamily(addr ?? '');
  if (family === 0 || extra !== undefined) throw new RowError(column, `"${value}" is not an IP network (a.b.c.d/n or x:y::/n; no zone index)`);
  const max = family === 4 ? 32 : 128;
  if (bits === undefined) return `${addr}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new RowError(column, `"${value}" has a bad prefix length (0..${max})`);
  return `${addr}/${bits}`;
}

function uint32(column: string, value: string, allowAs = false): number {
  const v = allowAs ? value.trim().replace(/^AS/i, '') : value.trim();
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) throw new RowError(column, `"${value}" is not an unsigned 32-bit integer`);
  return Number(v);
}

function country(column: string, value: string): string {
  const v = value.trim().toUpperCase();
  if (v !== '' && !/^[A-Z]{2}$/.test(v)) throw new RowError(column, `"${value}" is not an ISO 3166-1 alpha-2 country code`);
  return v;
}

function required(column: string, value: string): string {
  const v = value.trim();
  if (v === '') throw new RowError(column, 'is empty');
  return v;
}

const JA4 = /^[tqd][0-9a-z]{2}[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;

function ja4(column: string, value: string): string {
  const v = value.trim();
  if (!JA4.test(v)) throw new RowError(column, `"${value}" is not a JA4 fingerprint (e.g. t13d1516h2_8daaf6152771_02713d6af862)`);
  return v;
}

function list(value: string): string[] {
  return value.trim() === '' ? [] : value.trim().split(/\s+/);
}

const ACTIONS = new Set(['ALLOW', 'DENY', 'CHALLENGE', 'WEIGH']);
const FINGERPRINT_COLUMNS = ['ja4', 'ja4s', 'ja4h', 'ja4x', 'ja4t', 'ja4tscan'] as const;

export const REFERENCE_SPECS: readonly ReferenceSpec[] = [
  {
    // iplocate.io's ip-to-asn.csv, as published
    file: 'ip-to-asn.csv',
    table: 'ja4_processing.ref_ip_asn',
    dictionaries: ['ja4_processing.dict_ip_asn'],
    columns: ['network', 'asn', 'country_code', 'name', 'org', 'domain'],
    toRows: (v) => [
      {
        network: cidr('network', v.network!),
        asn: uint32('asn', v.asn!, true),
        country_code: country('country_code', v.country_code!),
        name: v.name!.trim(),
        org: v.org!.trim(),
        domain: v.domain!.trim(),
      },
    ],
  },
  {
    file: 'bot-ip-prefixes.csv',
    table: 'ja4_processing.ref_bot_ip_prefixes',
    dictionaries: ['ja4_processing.dict_bot_ip_prefixes'],
    columns: ['prefix', 'bot_name', 'source'],
    toRows: (v) => [{ prefix: cidr('prefix', v.prefix!), bot_name: required('bot_name', v.bot_name!), source: v.source!.trim() }],
  },
  {
    file: 'bot-ja4.csv',
    table: 'ja4_processing.ref_bot_ja4',
    dictionaries: ['ja4_processing.dict_bot_ja4'],
    columns: ['ja4', 'bot_name', 'category', 'notes'],
    toRows: (v) => [{ ja4: ja4('ja4', v.ja4!), bot_name: required('bot_name', v.bot_name!), category: v.category!.trim(), notes: v.notes!.trim() }],
  },
  {
    file: 'browser-ja4.csv',
    table: 'ja4_processing.ref_browser_ja4',
    dictionaries: ['ja4_processing.dict_browser_ja4'],
    columns: ['ja4', 'browser', 'notes'],
    toRows: (v) => [{ ja4: ja4('ja4', v.ja4!), browser: required('browser', v.browser!), notes: v.notes!.trim() }],
  },
  {
    file: 'asn-reputation.csv',
    table: 'ja4_processing.ref_asn_reputation',
    dictionaries: ['ja4_processing.dict_asn_reputation'],
    columns: ['asn', 'label', 'score', 'notes'],
    toRows: (v) => {
      const score = Number(v.score);
      if (v.score!.trim() === '' || !Number.isFinite(score) || score < 0 || score > 1) throw new RowError('score', `"${v.score}" is not a number between 0 and 1`);
      return [{ asn: uint32('asn', v.asn!, true), label: required('label', v.label!), score, notes: v.notes!.trim() }];
    },
  },
  {
    // Anubis-style bot policy rules; lists are space-separated
    file: 'crawler-rules.csv',
    table: 'ja4_processing.ref_crawler_rules',
    dictionaries: [],
    columns: ['name', 'action', 'user_agent_regex', 'path_regex', 'remote_addresses', 'asns', 'countries', 'weight'],
    toRows: (v) => {
      const action = v.action!.trim().toUpperCase();
      if (!ACTIONS.has(action)) throw new RowError('action', `"${v.action}" is not one of ${[...ACTIONS].join(', ')}`);
      const weight = v.weight!.trim() === '' ? 0 : Number(v.weight);
      if (!Number.isInteger(weight) || Math.abs(weight) > 1_000_000) throw new RowError('weight', `"${v.weight}" is not an integer`);
      const row = {
        name: required('name', v.name!),
        action,
        user_agent_regex: v.user_agent_regex!.trim(),
        path_regex: v.path_regex!.trim(),
        remote_addresses: list(v.remote_addresses!).map((c) => cidr('remote_addresses', c)),
        asns: list(v.asns!).map((a) => uint32('asns', a, true)),
        countries: list(v.countries!).map((c) => country('countries', c)),
        weight,
      };
      if (!row.user_agent_regex && !row.path_regex && !row.remote_addresses.length && !row.asns.length && !row.countries.length) {
        throw new RowError('name', `rule "${row.name}" has no condition (it would match every request)`);
      }
      return [row];
    },
    regexes: (v) =>
      [
        { column: 'user_agent_regex', pattern: v.user_agent_regex!.trim() },
        { column: 'path_regex', pattern: v.path_regex!.trim() },
      ].filter((r) => r.pattern !== ''),
    finish: (rows) => rows.map((r, i) => ({ position: i + 1, ...r })),
  },
  {
    // FoxIO's ja4plus-mapping.csv: one row per fingerprint it names
    file: 'ja4plus-mapping.csv',
    table: 'ja4_processing.ref_ja4plus_mapping',
    dictionaries: ['ja4_processing.dict_ja4plus_mapping'],
    columns: ['Application', 'Library', 'Device', 'OS', ...FINGERPRINT_COLUMNS, 'Notes'],
    toRows: (v) => {
      const rows: Row[] = [];
      for (const type of FINGERPRINT_COLUMNS) {
        const fp = v[type]!.trim();
        if (fp === '') continue;
        if (!/^[0-9A-Za-z_.-]{1,200}$/.test(fp)) throw new RowError(type, `"${fp}" is not a fingerprint`);
        rows.push({
          fingerprint_type: type,
          fingerprint: fp,
          application: v.Application!.trim(),
          library: v.Library!.trim(),
          device: v.Device!.trim(),
          os: v.OS!.trim(),
          notes: v.Notes!.trim(),
        });
      }
      if (rows.length === 0) throw new RowError('ja4', 'the row names no fingerprint');
      return rows;
    },
    // the same fingerprint on several rows (GoLang and Sliver Agent): keep
    // every distinct label, joined with " / "
    finish: (rows) => {
      const byKey = new Map<string, Row>();
      for (const r of rows) {
        const key = `${r.fingerprint_type}\u0000${r.fingerprint}`;
        const prev = byKey.get(key);
        if (!prev) {
          byKey.set(key, { ...r });
          continue;
        }
        for (const col of ['application', 'library', 'device', 'os', 'notes']) {
          const labels = new Set(String(prev[col]).split(' / ').filter(Boolean));
          if (r[col]) labels.add(String(r[col]));
          prev[col] = [...labels].join(' / ');
        }
      }
      return [...byKey.values()];
    },
  },
];

export interface ParsedReferenceFile {
  spec: ReferenceSpec;
  path: string;
  rows: Row[];
  /** regexes with their file line, to check in the engine's dialect */
  regexes: { line: number; column: string; pattern: string }[];
}

function fail(path: string, line: number | undefined, message: string): never {
  throw new StorageError('ERR_REFERENCE_DATA', `${path}${line === undefined ? '' : `:${line}`}: ${message}`);
}

/** Reads and validates one reference file (no database needed). */
export function parseReferenceFile(path: string, spec: ReferenceSpec): ParsedReferenceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(path, undefined, `cannot read: ${(err as Error).message}`);
  }
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) fail(path, err.line, `CSV syntax: ${err.message}`);
    throw err;
  }
  const [header, ...data] = records;
  if (!header) fail(path, undefined, `empty file (expected the header ${spec.columns.join(',')})`);
  const names = header.fields.map((f) => f.trim());
  const missing = spec.columns.filter((c) => !names.includes(c));
  const unknown = names.filter((n) => !spec.columns.includes(n));
  if (missing.length > 0 || unknown.length > 0) {
    fail(path, header.line, `header must have the columns ${spec.columns.join(',')}` + (missing.length ? `; missing: ${missing.join(', ')}` : '') + (unknown.length ? `; unknown: ${unknown.join(', ')}` : ''));
  }
  const rows: Row[] = [];
  const regexes: ParsedReferenceFile['regexes'] = [];
  for (const rec of data) {
    if (rec.fields.length !== names.length) fail(path, rec.line, `${rec.fields.length} fields, the header has ${names.length}`);
    const values: Record<string, string> = {};
    names.forEach((n, i) => (values[n] = rec.fields[i]!));
    try {
      rows.push(...spec.toRows(values));
    } catch (err) {
      if (err instanceof RowError) fail(path, rec.line, `column "${err.column}": ${err.message}`);
      throw err;
    }
    for (const r of spec.regexes?.(values) ?? []) regexes.push({ line: rec.line, ...r });
  }
  return { spec, path, rows: spec.finish ? spec.finish(rows) : rows, regexes };
}

/** The known reference files present in a directory, validated. */
export function readReferenceDir(dir: string): ParsedReferenceFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(dir, undefined, 'is not a directory');
  const csvs = readdirSync(dir).filter((n) => n.endsWith('.csv')).sort();
  const unknown = csvs.filter((n) => !REFERENCE_SPECS.some((s) => s.file === n));
  if (unknown.length > 0) fail(join(dir, unknown[0]!), undefined, `unknown reference file (known: ${REFERENCE_SPECS.map((s) => s.file).join(', ')})`);
  if (csvs.length === 0) fail(dir, undefined, `has no reference file (known: ${REFERENCE_SPECS.map((s) => s.file).join(', ')})`);
  return REFERENCE_SPECS.filter((s) => csvs.includes(s.file)).map((s) => parseReferenceFile(join(dir, s.file), s));
}

export interface LoadedReferenceFile {
  file: string;
  table: string;
  rows: number;
}

const INSERT_CHUNK = 50_000;

/** Validates every file of DIR, then replaces the tables' content and reloads the dictionaries. */
export async function loadReferenceData(storage: Storage, dir: string, log?: (line: string) => void): Promise<LoadedReferenceFile[]> {
  const files = readReferenceDir(dir);
  // The regexes run in the engine (RE2 and Vectorscan dialects: inline flags
  // such as (?i), no lookaround, no backreferences), so the engine validates
  // them, before anything is changed.
  for (const f of files) {
    for (const r of f.regexes) {
      try {
        // match(): RE2; multiMatchAny(): Vectorscan, which the http_logs view uses
        await storage.query("SELECT match('', {re:String}) AND multiMatchAny('', [{re:String}]) AS ok", { re: r.pattern });
      } catch (err) {
        fail(f.path, r.line, `column "${r.column}": the engine rejects the regular expression: ${engineMessage(err).replace(/^query failed: /, '')}`);
      }
    }
  }
  const onCluster = storage.options.cluster !== undefined ? ` ON CLUSTER \`${storage.options.cluster}\`` : '';
  const out: LoadedReferenceFile[] = [];
  for (const f of files) {
    await storage.command(`TRUNCATE TABLE IF EXISTS ${f.spec.table}${onCluster}`);
    for (let i = 0; i < f.rows.length; i += INSERT_CHUNK) {
      const body = f.rows.slice(i, i + INSERT_CHUNK).map((r) => JSON.stringify(r)).join('\n');
      await storage.insertEncoded(f.spec.table, body, 'JSONEachRow');
    }
    for (const d of f.spec.dictionaries) await storage.command(`SYSTEM RELOAD DICTIONARY${onCluster} ${d}`);
    log?.(`${f.spec.file}: ${f.rows.length} rows -> ${f.spec.table}`);
    out.push({ file: f.spec.file, table: f.spec.table, rows: f.rows.length });
  }
  return out;
}
