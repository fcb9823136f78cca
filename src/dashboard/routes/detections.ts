// Detections list: filterable, sortable, paginated; and its CSV export
// (the same filters, at most CSV_MAX_ROWS rows).
import { DETECTION_SORTS, ROUTES, THREAT_LEVELS, type Detection, type DetectionsResponse } from '../api-types.js';
import type { DashboardDeps } from '../deps.js';
import { DETECTION_COLUMNS, DETECTION_CSV_FIELDS } from '../detection-rows.js';
import type { Reply } from '../http/exchange.js';
import { ExportSlots } from '../http/export-slots.js';
import { campaignValue, enumListParam, enumParam, ipParam, ja4Param, numberParam, pageParams, rangeParam, textParam } from '../http/params.js';
import type { Principal, Router } from '../router.js';
import { DETECTED, rangeParams, select, toPage } from '../sql.js';

export const CSV_MAX_ROWS = 100_000;

/** ORDER BY per sort key: fixed strings, never user text. */
const SORT_SQL: Record<(typeof DETECTION_SORTS)[number], string> = {
  detected_at: 'detected_at',
  score: 'score',
  requests: 'requests',
  threat_level: "indexOf(['low', 'medium', 'high', 'critical'], toString(threat_level))",
};

function filters(q: URLSearchParams): { where: string; params: Record<string, unknown> } {
  const range = rangeParam(q);
  const where = [DETECTED];
  const params: Record<string, unknown> = rangeParams(range);
  const levels = enumListParam(q, 'level', THREAT_LEVELS);
  if (levels.length > 0) {
    where.push('threat_level IN {levels:Array(String)}');
    params.levels = levels;
  }
  const ja4 = ja4Param(q, 'ja4');
  if (ja4) {
    where.push('ja4 = {ja4:String}');
    params.ja4 = ja4;
  }
  const ip = ipParam(q, 'ip');
  if (ip) {
    // qualified: the SELECT's client_ip is the text form (an alias wins over the column)
    where.push('det.client_ip = toIPv6({ip:String})');
    params.ip = ip;
  }
  const host = textParam(q, 'host', 255);
  if (host) {
    where.push('host = {host:String}');
    params.host = host;
  }
  const campaign = q.get('campaign');
  if (campaign) {
    where.push('campaign_id = {campaign:String}');
    params.campaign = campaignValue('campaign', campaign);
  }
  const minScore = numberParam(q, 'min_score', { min: 0, max: 1 });
  if (minScore !== undefined) {
    where.push('score >= {min_score:Float32}');
    params.min_score = minScore;
  }
  return { where: where.join(' AND '), params };
}

function orderBy(q: URLSearchParams): string {
  const sort = enumParam(q, 'sort', DETECTION_SORTS, 'detected_at');
  const order = enumParam(q, 'order', ['asc', 'desc'] as const, 'desc');
  // then the row's whole key (one pass writes its detections with one
  // detected_at): ties ordered differently from one query to the next would
  // repeat rows on one page and skip others
  return `${SORT_SQL[sort]} ${order.toUpperCase()}, detected_at DESC, client_ip, ja4, host, window_start, window, model_version`;
}

function csvCell(v: unknown): string {
  const text = Array.isArray(v) ? v.join(' ') : String(v ?? '');
  // RFC 4180 quoting, and a leading ' against formula injection in
  // spreadsheets (OWASP, CSV injection). Cells holding ';' or a tab are
  // quoted too: a spreadsheet whose list separator is ';' (much of Europe)
  // splits unquoted text there, and the piece after it, a cell of its own,
  // may start with '='
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",;\t\r\n]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function register(router: Router, { storage }: DashboardDeps, exports = new ExportSlots()): void {
  const table = storage.tables.read('mlDetectedAnomalies');

  router.add(ROUTES.detections, async ({ req }): Promise<DetectionsResponse> => {
    const { where, params } = filters(req.query);
    const { limit, offset } = pageParams(req.query);
    const [rows, total] = await Promise.all([
      select<Detection>(storage, `SELECT ${DETECTION_COLUMNS} FROM ${table} AS det WHERE ${where} ORDER BY ${orderBy(req.query)} LIMIT {limit:UInt32} OFFSET {offset:UInt32}`, {
        ...params,
        limit: limit + 1,
        offset,
      }),
      select<{ n: number }>(storage, `SELECT count() AS n FROM ${table} AS det WHERE ${where}`, params),
    ]);
    return toPage(rows, limit, offset, total[0]?.n ?? 0);
  });

  router.add(ROUTES.detectionsCsv, async ({ req, principal }): Promise<Reply> => {
    const { where, params } = filters(req.query);
    const release = exports.acquire((principal as Principal).name);
    try {
      const rows = await select<Record<string, unknown>>(storage, `SELECT ${DETECTION_COLUMNS} FROM ${table} AS det WHERE ${where} ORDER BY ${orderBy(req.query)} LIMIT {limit:UInt32}`, {
        ...params,
        limit: CSV_MAX_ROWS,
      });
      const lines = [DETECTION_CSV_FIELDS.join(',')];
      for (const r of rows) lines.push(DETECTION_CSV_FIELDS.map((f) => csvCell(r[f])).join(','));
      return {
        kind: 'reply',
        body: `${lines.join('\r\n')}\r\n`,
        contentType: 'text/csv; charset=utf-8',
        headers: { 'Content-Disposition': 'attachment; filename="detections.csv"', 'Cache-Control': 'no-store' },
      };
    } finally {
      release();
    }
  });
}
