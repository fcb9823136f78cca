// JA4 investigation (/ja4/{fingerprint}): KPIs, reference mapping and
// signals, timeline, threat levels / ASNs / countries / user agents, the
// client IPs with their scores, and mean feature values.
import { ROUTES, type FeaturesResponse, type Ja4BreakdownResponse, type Ja4ClientIp, type Ja4IpsResponse, type Ja4SummaryResponse, type Ja4TimelineResponse } from '../api-types.js';
import { ja4TimelineQuery } from '../../storage/index.js';
import { currentClassification } from '../classification-rows.js';
import type { DashboardDeps } from '../deps.js';
import { chTime, intParam, ja4Value, pageParams, rangeParam, type Range } from '../http/params.js';
import type { Router } from '../router.js';
import { API_SETTINGS, DETECTED, HOURS, TS, hourRangeParams, ipText, rangeParams, select, toPage } from '../sql.js';

/**
 * The JA4's feature profile over the window, request-weighted, with the
 * formulas of view_ja4_signals_1h / view_ai_features_1h (sql/0008), from
 * agg_ja4_1h alone: its (hour, ja4) key finds the JA4 with one range per
 * hour. agg_host_ip_ja4_1h is keyed by IP first, so a busy JA4 means
 * reading most of it (seconds on 10M rows); the per-client features
 * (referer, cookies, inter-arrival times) are on the IP page.
 */
export const FEATURE_SQL: Record<string, string> = {
  requests_per_minute: "sum(requests) / greatest(dateDiff('second', min(first_seen), max(last_seen)) / 60, 1)",
  active_seconds: "dateDiff('millisecond', min(first_seen), max(last_seen)) / 1000",
  status_4xx_ratio: 'sum(status_4xx) / sum(requests)',
  error_ratio: 'sum(errors) / sum(requests)',
  browser_ua_ratio: 'sum(browser_ua) / sum(requests)',
  ua_ja4_mismatch_ratio: 'sum(ua_ja4_mismatch) / sum(requests)',
  bot_ip_ratio: 'sum(bot_ip) / sum(requests)',
  h2_h3_ratio: '(sum(h2) + sum(h3)) / sum(requests)',
  distinct_paths_ratio: 'uniqMerge(paths) / sum(requests)',
  distinct_uas: 'uniqMerge(user_agents)',
  distinct_ips: 'uniqCombinedMerge(12)(client_ips)',
  distinct_asns: 'uniqMerge(asns)',
  distinct_ja4h: 'uniqMerge(ja4h_values)',
};
export const FEATURE_COLUMNS = Object.keys(FEATURE_SQL);

/**
 * The whole hours inside a window: [from rounded up, to rounded down) to
 * the hour (empty, from > to, when both are in one hour: then every row of
 * the window is outside it).
 */
export function wholeHours(r: Range): { whole_from: string; whole_to: string } {
  const h = 3_600_000;
  return { whole_from: chTime(new Date(Math.ceil(r.from.getTime() / h) * h)).slice(0, 19), whole_to: chTime(new Date(Math.floor(r.to.getTime() / h) * h)).slice(0, 19) };
}

export function register(router: Router, { storage }: DashboardDeps): void {
  const t = storage.tables;

  router.add(ROUTES.ja4, async ({ req }): Promise<Ja4SummaryResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const hp = { ...hourRangeParams(range), ja4 };
    const [kpis, det, ref, signals, classification] = await Promise.all([
      select<Omit<Ja4SummaryResponse['kpis'], 'detections' | 'max_score'>>(
        storage,
        `SELECT sum(requests) AS total_requests, uniqCombinedMerge(12)(client_ips) AS ips, uniqMerge(user_agents) AS distinct_uas, uniqMerge(hosts) AS hosts,
                if(total_requests = 0, NULL, min(first_seen)) AS first_seen, if(total_requests = 0, NULL, max(last_seen)) AS last_seen
         FROM ${t.read('aggJa4')} WHERE ja4 = {ja4:String} AND ${HOURS}`,
        hp,
      ),
      select<{ detections: number; max_score: number }>(
        storage,
        `SELECT count() AS detections, if(detections = 0, 0, max(score)) AS max_score FROM ${t.read('mlDetectedAnomalies')} WHERE ja4 = {ja4:String} AND ${DETECTED}`,
        { ...rangeParams(range), ja4 },
      ),
      select<Ja4SummaryResponse['reference']>(
        storage,
        `SELECT dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'application', ('ja4', {ja4:String}), '') AS application,
                dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'library', ('ja4', {ja4:String}), '') AS library,
                dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'device', ('ja4', {ja4:String}), '') AS device,
                dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'os', ('ja4', {ja4:String}), '') AS os,
                dictGetOrDefault('ja4_processing.dict_bot_ja4', 'bot_name', tuple({ja4:String}), '') AS bot_name,
                dictGetOrDefault('ja4_processing.dict_bot_ja4', 'category', tuple({ja4:String}), '') AS bot_category,
                dictGetOrDefault('ja4_processing.dict_browser_ja4', 'browser', tuple({ja4:String}), '') AS browser`,
        { ja4 },
      ),
      // view_ja4_signals_1h's formulas for one hour only: the rank needs every JA4 of
      // that hour, so the view over a whole window would rank a week of JA4s
      select<NonNullable<Ja4SummaryResponse['signals']>>(
        storage,
        `WITH (SELECT max(hour) FROM ${t.read('aggJa4')} WHERE ja4 = {ja4:String} AND ${HOURS}) AS last_hour
         SELECT hour, requests, h2_ratio, h3_ratio, browser_ua_ratio, ua_ja4_mismatch_ratio, bot_ip_ratio, status_4xx_ratio, distinct_uas,
                distinct_paths, distinct_ips, distinct_asns, volume_rank, volume_quantile
         FROM (SELECT hour, ja4, r AS requests, h2 / r AS h2_ratio, h3 / r AS h3_ratio, b / r AS browser_ua_ratio, m / r AS ua_ja4_mismatch_ratio,
                      bi / r AS bot_ip_ratio, s4 / r AS status_4xx_ratio, distinct_uas, distinct_paths, distinct_ips, distinct_asns,
                      rank() OVER (ORDER BY r DESC) AS volume_rank, percent_rank() OVER (ORDER BY r ASC) AS volume_quantile
               FROM (SELECT hour, ja4, sum(requests) AS r, sum(h2) AS h2, sum(h3) AS h3, sum(browser_ua) AS b, sum(ua_ja4_mismatch) AS m,
                            sum(bot_ip) AS bi, sum(status_4xx) AS s4, uniqMerge(user_agents) AS distinct_uas, uniqMerge(paths) AS distinct_paths,
                            uniqCombinedMerge(12)(client_ips) AS distinct_ips, uniqMerge(asns) AS distinct_asns
                     FROM ${t.read('aggJa4')} WHERE hour = last_hour GROUP BY hour, ja4))
         WHERE ja4 = {ja4:String} AND requests > 0`,
        hp,
      ),
      currentClassification(storage, 'ja4', ja4),
    ]);
    const k = kpis[0] ?? { total_requests: 0, ips: 0, distinct_uas: 0, hosts: 0, first_seen: null, last_seen: null };
    return {
      ja4,
      kpis: { ...k, detections: det[0]?.detections ?? 0, max_score: det[0]?.max_score ?? 0 },
      reference: ref[0]!,
      signals: signals[0] ?? null,
      classification,
    };
  });

  router.add(ROUTES.ja4Timeline, async ({ req }): Promise<Ja4TimelineResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const bucket = intParam(req.query, 'bucket_minutes', { min: 5, max: 1440, default: 60 });
    const q = ja4TimelineQuery(t, ja4, range, bucket);
    const points = await storage.query<Ja4TimelineResponse['points'][number]>(q.sql, q.params, API_SETTINGS);
    return { bucket_minutes: bucket, points };
  });

  router.add(ROUTES.ja4Breakdown, async ({ req }): Promise<Ja4BreakdownResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const hp = { ...hourRangeParams(range), ja4 };
    const [threat_levels, asns, countries, user_agents] = await Promise.all([
      select<Ja4BreakdownResponse['threat_levels'][number]>(
        storage,
        `SELECT toString(threat_level) AS threat_level, count() AS detections FROM ${t.read('mlDetectedAnomalies')}
         WHERE ja4 = {ja4:String} AND ${DETECTED} GROUP BY threat_level ORDER BY detections DESC`,
        { ...rangeParams(range), ja4 },
      ),
      // agg_ja4_network_1h (sql/0018), keyed by JA4 first: the JA4's networks of each hour
      select<Ja4BreakdownResponse['asns'][number]>(
        storage,
        `SELECT a.asn AS asn, ifNull(n.asn_name, '') AS asn_name, a.total_requests AS total_requests
         FROM (SELECT asn, sum(requests) AS total_requests FROM ${t.read('aggJa4Network')} WHERE ja4 = {ja4:String} AND ${HOURS}
               GROUP BY asn ORDER BY total_requests DESC, asn LIMIT 20) AS a
         LEFT JOIN (SELECT asn, any(name) AS asn_name FROM ja4_processing.ref_ip_asn GROUP BY asn) AS n ON n.asn = a.asn
         ORDER BY total_requests DESC, asn`,
        hp,
      ),
      select<Ja4BreakdownResponse['countries'][number]>(
        storage,
        `SELECT toString(country) AS country, sum(requests) AS total_requests FROM ${t.read('aggJa4Network')} WHERE ja4 = {ja4:String} AND ${HOURS}
         GROUP BY country ORDER BY total_requests DESC, country LIMIT 20`,
        hp,
      ),
      // the window's whole hours from agg_ja4_ua_1h (sql/0018), its partial first and last hours
      // from http_logs (one key range each); the uniq() states merge to uniq() over the rows
      select<Ja4BreakdownResponse['user_agents'][number]>(
        storage,
        `SELECT user_agent, sum(requests) AS total_requests, uniqMerge(ips) AS ips
         FROM (SELECT user_agent, sum(requests) AS requests, uniqMergeState(client_ips) AS ips FROM ${t.read('aggJa4Ua')}
               WHERE ja4 = {ja4:String} AND hour >= {whole_from:DateTime('UTC')} AND hour < {whole_to:DateTime('UTC')} GROUP BY user_agent
               UNION ALL
               SELECT user_agent, count() AS requests, uniqState(client_ip) AS ips FROM ${t.read('httpLogs')}
               WHERE ja4 = {ja4:String} AND ${TS} AND (ts < {whole_from:DateTime('UTC')} OR ts >= {whole_to:DateTime('UTC')}) GROUP BY user_agent)
         GROUP BY user_agent ORDER BY total_requests DESC, user_agent LIMIT 20`,
        { ...rangeParams(range), ...wholeHours(range), ja4 },
      ),
    ]);
    return { threat_levels, asns, countries, user_agents };
  });

  // agg_ja4_ip_1h (sql/0020), keyed by JA4 first: the JA4's clients of each hour
  router.add(ROUTES.ja4Ips, async ({ req }): Promise<Ja4IpsResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const { limit, offset } = pageParams(req.query);
    const rows = await select<Ja4ClientIp>(
      storage,
      `SELECT ${ipText('i.client_ip')} AS client_ip, i.total_requests AS total_requests, i.asn AS asn, toString(i.country) AS country,
              if(d.n > 0, d.max_score, NULL) AS max_score, if(d.n > 0, d.level, '') AS threat_level, i.last_seen AS last_seen
       FROM (SELECT client_ip, sum(requests) AS total_requests, max(asn) AS asn, max(country) AS country, max(last_seen) AS last_seen
             FROM ${t.read('aggJa4Ip')} WHERE ja4 = {ja4:String} AND ${HOURS} GROUP BY client_ip) AS i
       LEFT JOIN (SELECT client_ip, count() AS n, max(score) AS max_score, toString(argMax(threat_level, score)) AS level
                  FROM ${t.read('mlDetectedAnomalies')} WHERE ja4 = {ja4:String} AND detected_at >= {from:DateTime('UTC')} AND detected_at < {to:DateTime('UTC')}
                  GROUP BY client_ip) AS d ON d.client_ip = i.client_ip
       ORDER BY total_requests DESC, client_ip LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { ...hourRangeParams(range), ja4, limit: limit + 1, offset },
    );
    return toPage(rows, limit, offset);
  });

  router.add(ROUTES.ja4Features, async ({ req }): Promise<FeaturesResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const rows = await select<Record<string, number>>(
      storage,
      `SELECT uniqExact(hour) AS rows, ${FEATURE_COLUMNS.map((c) => `${FEATURE_SQL[c]} AS ${c}`).join(', ')}
       FROM ${t.read('aggJa4')} WHERE ja4 = {ja4:String} AND ${HOURS}`,
      { ...hourRangeParams(range), ja4 },
    );
    const { rows: n = 0, ...features } = rows[0] ?? {};
    // avg() of nothing is NaN, which JSON cannot carry
    for (const k of Object.keys(features)) if (!Number.isFinite(features[k])) features[k] = 0;
    return { rows: n, features };
  });
}
