// HTTP log explorer: http_logs filtered by field, newest first. The
// window is what keeps it fast (http_logs is ordered by hour first), so it
// is at most 7 days, read from its newest hour outwards.
import { ROUTES, type HttpLogRow, type LogsResponse } from '../api-types.js';
import type { DashboardDeps } from '../deps.js';
import { badField } from '../http/errors.js';
import { chTime, intParam, ipParam, ja4Param, pageParams, rangeParam, textParam, type Range } from '../http/params.js';
import type { Router } from '../router.js';
import { TS, ipText, rangeParams, select, toPage } from '../sql.js';

export const LOG_COLUMNS = `ts, request_id, ${ipText('client_ip')} AS client_ip, toString(method) AS method, toString(host) AS host, path, query,
  toString(protocol) AS protocol, status, bytes_out, user_agent, toString(ja4) AS ja4, ja4h, asn, toString(country) AS country,
  toString(bot_ip_name) AS bot_ip_name, toString(bot_ja4_name) AS bot_ja4_name, toString(crawler_rule) AS crawler_rule,
  toString(correlation_status) AS correlation_status`;

export function logFilters(q: URLSearchParams): { where: string; params: Record<string, unknown>; range: Range } {
  const range = rangeParam(q, { defaultHours: 1, maxDays: 7 });
  const where = [TS];
  const params: Record<string, unknown> = rangeParams(range);
  const add = (sql: string, name: string, value: unknown): void => {
    where.push(sql);
    params[name] = value;
  };
  const ja4 = ja4Param(q, 'ja4');
  if (ja4) add('ja4 = {ja4:String}', 'ja4', ja4);
  const ip = ipParam(q, 'ip');
  // qualified: the SELECT's client_ip is the text form (an alias wins over the column)
  if (ip) add('l.client_ip = toIPv6({ip:String})', 'ip', ip);
  const host = textParam(q, 'host', 255);
  if (host) add('host = {host:String}', 'host', host);
  const path = textParam(q, 'path', 2048);
  if (path) add('startsWith(path, {path:String})', 'path', path);
  const method = textParam(q, 'method', 16);
  if (method) {
    if (!/^[A-Za-z]+$/.test(method)) throw badField('method', 'must be an HTTP method name', method);
    add('method = {method:String}', 'method', method.toUpperCase());
  }
  const status = textParam(q, 'status', 3);
  if (status) {
    const cls = /^([1-5])xx$/i.exec(status);
    if (cls) add('intDiv(status, 100) = {status_class:UInt8}', 'status_class', Number(cls[1]));
    else if (/^[1-5]\d\d$/.test(status)) add('status = {status:UInt16}', 'status', Number(status));
    else throw badField('status', 'must be a status code (404) or a class (4xx)', status);
  }
  const ua = textParam(q, 'user_agent', 512);
  if (ua) add('positionCaseInsensitiveUTF8(user_agent, {ua:String}) > 0', 'ua', ua);
  const country = textParam(q, 'country', 2);
  if (country) {
    if (!/^[A-Za-z]{2}$/.test(country)) throw badField('country', 'must be a two-letter country code', country);
    add('country = {country:String}', 'country', country.toUpperCase());
  }
  if (q.get('asn')) add('asn = {asn:UInt32}', 'asn', intParam(q, 'asn', { min: 0, max: 4_294_967_295, default: 0 }));
  const ja4h = textParam(q, 'ja4h', 128);
  if (ja4h) add('ja4h = {ja4h:String}', 'ja4h', ja4h);
  return { where: where.join(' AND '), params, range };
}

export function register(router: Router, { storage }: DashboardDeps): void {
  router.add(ROUTES.logs, async ({ req }): Promise<LogsResponse> => {
    const { where, params, range } = logFilters(req.query);
    const { limit, offset } = pageParams(req.query);
    const sql = `SELECT ${LOG_COLUMNS} FROM ${storage.tables.read('httpLogs')} AS l WHERE ${where} ORDER BY ts DESC, request_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}`;
    // Newest first, and http_logs is ordered by hour before ts: sorting a
    // week means reading a week (10M rows: seconds). The window's last hour,
    // then its last day, usually hold the page: a narrowed window that
    // returns limit + 1 rows gives exactly the rows the whole window would
    // (everything outside it is older); else the next, wider one is read.
    const to = range.to.getTime();
    for (const spanMs of [3_600_000, 86_400_000, Infinity]) {
      const from = Math.max(range.from.getTime(), to - spanMs);
      const rows = await select<HttpLogRow>(storage, sql, { ...params, from: chTime(new Date(from)), limit: limit + 1, offset });
      if (rows.length > limit || from === range.from.getTime()) return toPage(rows, limit, offset);
    }
    throw new Error('unreachable: the last window is the whole range');
  });
}
