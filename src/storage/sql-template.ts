// The sql/ files are templates: one text serves the embedded engine, a
// single server and a cluster. This module splits a file into statements,
// keeps those meant for the current mode (`-- @only cluster|server|embedded`
// in a statement's comments) and renders the {{...}} placeholders:
//
//   {{ON_CLUSTER}}               '' | ON CLUSTER `name`
//   {{CLUSTER}}                  the cluster name as a string literal (Distributed's first argument)
//   {{ENGINE E(args)}}           E(args) | ReplicatedE('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', args)
//   {{ENGINE_GLOBAL E(args)}}    same, replicated to every node of the cluster (one path, no {shard})
//   {{READ db.table}}            db.table | db.table_dist
//   {{TTL_DAYS family}}          the retention of that family, in days
//   {{PASSWORD_SHA256 user}}     SHA-256 of that user's password, as a string literal
//
// ClickHouse's own {shard}/{replica} macros and {name:Type} query parameters
// use single braces and pass through untouched.
import { createHash } from 'node:crypto';
import { StorageError } from './errors.js';
import type { RetentionDays } from './options.js';
import { distributedName } from './tables.js';

export type StatementMode = 'cluster' | 'server' | 'embedded';

export interface TemplateStatement {
  /** the statement text, comments included, without the final ';' */
  text: string;
  /** 1-based line of the statement's first character in the file */
  line: number;
  /** `-- @only ...`: the modes this statement is for (undefined: all) */
  only?: StatementMode;
}

export interface RenderContext {
  /** set on a cluster (implies server) */
  cluster?: string;
  /** true with a server URL (cluster or not), false for the embedded engine */
  server: boolean;
  retention: RetentionDays;
  /** plain passwords of the users of 0011_create_users.sql */
  userPasswords?: { dashboard?: string; writer?: string };
}

const ONLY = /^\s*--\s*@only\s+(\S+)\s*$/m;

/** Splits SQL text at top-level ';' (not inside quotes or comments). */
export function splitStatements(sql: string, file = '<sql>'): TemplateStatement[] {
  const out: TemplateStatement[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let i = 0;
  const push = (end: number): void => {
    const text = sql.slice(start, end);
    // statements made only of comments and blanks are dropped
    const code = text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim();
    if (code !== '') {
      const leading = text.length - text.trimStart().length;
      const firstLine = startLine + (text.slice(0, leading).match(/\n/g)?.length ?? 0);
      const m = ONLY.exec(text);
      let only: StatementMode | undefined;
      if (m) {
        const mode = m[1];
        if (mode !== 'cluster' && mode !== 'server' && mode !== 'embedded') {
          throw new StorageError('ERR_MIGRATION_FILE', `${file}:${firstLine}: unknown "-- @only ${mode}" (cluster, server or embedded)`);
        }
        only = mode;
      }
      out.push({ text: text.trim(), line: firstLine, only });
    }
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      line += sql.slice(i, stop).match(/\n/g)?.length ?? 0;
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < sql.length && sql[i] !== c) {
        if (sql[i] === '\\') i++;
        else if (sql[i] === '\n') line++;
        i++;
      }
      i++;
    } else if (c === ';') {
      push(i);
      i++;
      start = i;
      startLine = line;
    } else {
      i++;
    }
  }
  push(sql.length);
  return out;
}

export function statementApplies(stmt: TemplateStatement, ctx: RenderContext): boolean {
  switch (stmt.only) {
    case undefined:
      return true;
    case 'cluster':
      return ctx.cluster !== undefined;
    case 'server':
      return ctx.server;
    case 'embedded':
      return !ctx.server;
  }
}

export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function engine(spec: string, ctx: RenderContext, global: boolean, where: string): string {
  const m = /^([A-Za-z]*MergeTree)\s*(?:\((.*)\))?$/s.exec(spec.trim());
  if (!m) throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{ENGINE ...}} needs a *MergeTree engine, got "${spec}"`);
  const name = m[1]!;
  const args = (m[2] ?? '').trim();
  if (ctx.cluster === undefined) return args === '' ? name : `${name}(${args})`;
  const path = global ? "'/clickhouse/tables/all/{database}/{table}'" : "'/clickhouse/tables/{shard}/{database}/{table}'";
  return `Replicated${name}(${path}, '{replica}'${args === '' ? '' : `, ${args}`})`;
}

/** The statement without its comments (quotes respected): comments may mention placeholders. */
export function stripComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      const from = i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      i++;
      out += sql.slice(from, i);
    } else {
      out += c;
      i++;
    }
  }
  // drop the blank lines the comments leave behind
  return out.replace(/[ \t]+$/gm, '').replace(/\n{2,}/g, '\n').trim();
}

/** Renders one statement's placeholders; `where` (file:line) goes into error messages. */
export function renderStatement(text: string, ctx: RenderContext, where: string): string {
  let sql = stripComments(text);
  // on a single node {{ON_CLUSTER}} disappears with the blank before it
  if (ctx.cluster === undefined) sql = sql.replace(/[ \t]*\{\{\s*ON_CLUSTER\s*\}\}/g, '');
  return sql.replace(/\{\{\s*([A-Z_0-9]+)(?:\s+([^}]*?))?\s*\}\}/g, (_all, name: string, arg: string | undefined) => {
    const need = (): string => {
      if (arg === undefined || arg === '') throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{${name}}} needs an argument`);
      return arg;
    };
    switch (name) {
      case 'ON_CLUSTER':
        return ctx.cluster === undefined ? '' : `ON CLUSTER \`${ctx.cluster}\``;
      case 'CLUSTER':
        if (ctx.cluster === undefined) throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{CLUSTER}} outside a "-- @only cluster" statement`);
        return quoteString(ctx.cluster);
      case 'ENGINE':
        return engine(need(), ctx, false, where);
      case 'ENGINE_GLOBAL':
        return engine(need(), ctx, true, where);
      case 'READ': {
        const table = need();
        if (!/^[a-z0-9_]+\.[a-z0-9_]+$/.test(table)) throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{READ ${table}}} needs db.table`);
        return ctx.cluster === undefined ? table : distributedName(table);
      }
      case 'TTL_DAYS': {
        const family = need() as keyof RetentionDays;
        const days = ctx.retention[family];
        if (days === undefined) throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{TTL_DAYS ${family}}}: unknown retention family`);
        return String(days);
      }
      case 'PASSWORD_SHA256': {
        const user = need();
        if (user !== 'dashboard' && user !== 'writer') throw new StorageError('ERR_MIGRATION_FILE', `${where}: {{PASSWORD_SHA256 ${user}}}: unknown user`);
        const password = ctx.userPasswords?.[user];
        if (password === undefined || password === '') {
          throw new StorageError(
            'ERR_STORAGE_OPTION',
            `userPasswords.${user} (JA4_DB_${user.toUpperCase()}_PASSWORD) is required to create the ${user} user on a server (${where})`,
          );
        }
        return quoteString(createHash('sha256').update(password).digest('hex'));
      }
      default:
        throw new StorageError('ERR_MIGRATION_FILE', `${where}: unknown placeholder {{${name}}}`);
    }
  });
}

/** The statements of a template for one mode, rendered. */
export function renderTemplate(sql: string, ctx: RenderContext, file = '<sql>'): { sql: string; line: number }[] {
  return splitStatements(sql, file)
    .filter((s) => statementApplies(s, ctx))
    .map((s) => ({ sql: renderStatement(s.text, ctx, `${file}:${s.line}`), line: s.line }));
}
