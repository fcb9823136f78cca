// JA4 investigation (/ja4/{fingerprint}): KPIs, reference mapping and
// signals, timeline, threat levels / ASNs / countries / user agents, the
// client IPs with their scores, and mean feature values.
import { ROUTES, type FeaturesResponse, type Ja4BreakdownResponse, type Ja4ClientIp, type Ja4IpsResponse, type Ja4SummaryResponse, type Ja4TimelineResponse } from '../api-types.js';
import { ja4TimelineQuery } from '../../storage/index.js';
import { currentClassification } from '../classification-rows.js';
import type { DashboardDeps } from '../deps.js';
import { intParam, ja4Value, pageParams, rangeParam } from '../http/params.js';
import type { Router } from '../router.js';
import { API_SETTINGS, DETECTED, HOURS, TS, hourRangeParams, ipText, rangeParams, select, toPage } from '../sql.js';

/** The features shown on the page (view_ai_features_1h columns). */
export const FEATURE_COLUMNS = [
  'requests_per_minute',
  'active_seconds',
  'distinct_paths_ratio',
  'status_2xx_ratio',
  'status_4xx_ratio',
  'status_5xx_ratio',
  'no_referer_ratio',
  'no_accept_language_ratio',
  'no_cookies_ratio',
  'header_order_diversity',
  'distinct_uas',
  'browser_ua_ratio',
  'ua_ja4_mismatch_ratio',
  'h2_h3_ratio',
  'bytes_out_per_request',
  'iat_mean_ms',
  'iat_cv',
  'iat_lag1_autocorr',
  'benford_mad',
  'benford_chi2',
] as const;

export function featureAverages(columns: readonly string[]): string {
  return columns.map((c) => `avg(${c}) AS ${c}`).join(', ');
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
      select<NonNullable<Ja4SummaryResponse['signals']>>(
        storage,
        `SELECT hour, requests, h2_ratio, h3_ratio, browser_ua_ratio, ua_ja4_mismatch_ratio, bot_ip_ratio, status_4xx_ratio, distinct_uas,
                distinct_paths, distinct_ips, distinct_asns, volume_rank, volume_quantile
         FROM ${t.read('ja4Signals')} WHERE ${HOURS} AND ja4 = {ja4:String} ORDER BY hour DESC LIMIT 1`,
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
      select<Ja4BreakdownResponse['asns'][number]>(
        storage,
        `SELECT a.asn AS asn, ifNull(n.asn_name, '') AS asn_name, a.total_requests AS total_requests
         FROM (SELECT asn, sum(r) AS total_requests FROM
                 (SELECT max(asn) AS asn, sum(requests) AS r FROM ${t.read('aggHostIpJa4')} WHERE ja4 = {ja4:String} AND ${HOURS} GROUP BY hour, client_ip, host)
               GROUP BY asn ORDER BY total_requests DESC LIMIT 20) AS a
         LEFT JOIN (SELECT asn, any(name) AS asn_name FROM ja4_processing.ref_ip_asn GROUP BY asn) AS n ON n.asn = a.asn
         ORDER BY total_requests DESC`,
        hp,
      ),
      select<Ja4BreakdownResponse['countries'][number]>(
        storage,
        `SELECT toString(country) AS country, sum(r) AS total_requests FROM
           (SELECT max(country) AS country, sum(requests) AS r FROM ${t.read('aggHostIpJa4')} WHERE ja4 = {ja4:String} AND ${HOURS} GROUP BY hour, client_ip, host)
         GROUP BY country ORDER BY total_requests DESC LIMIT 20`,
        hp,
      ),
      select<Ja4BreakdownResponse['user_agents'][number]>(
        storage,
        `SELECT user_agent, count() AS total_requests, uniq(client_ip) AS ips FROM ${t.read('httpLogs')}
         WHERE ja4 = {ja4:String} AND ${TS} GROUP BY user_agent ORDER BY total_requests DESC LIMIT 20`,
        { ...rangeParams(range), ja4 },
      ),
    ]);
    return { threat_levels, asns, countries, user_agents };
  });

  router.add(ROUTES.ja4Ips, async ({ req }): Promise<Ja4IpsResponse> => {
    const ja4 = ja4Value('fp', req.params.fp);
    const range = rangeParam(req.query);
    const { limit, offset } = pageParams(req.query);
    const rows = await select<Ja4ClientIp>(
      storage,
      `SELECT ${ipText('i.client_ip')} AS client_ip, i.total_requests AS total_requests, i.asn AS asn, toString(i.country) AS country,
              if(d.n > 0, d.max_score, NULL) AS max_score, if(d.n > 0, d.level, '') AS threat_level, i.last_seen AS last_seen
       FROM (SELECT client_ip, sum(requests) AS total_requests, max(asn) AS asn, max(country) AS country, max(last_seen) AS last_seen
             FROM ${t.read('aggHostIpJa4')} WHERE ja4 = {ja4:String} AND ${HOURS} GROUP BY client_ip) AS i
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
      `SELECT count() AS rows, ${featureAverages(FEATURE_COLUMNS)} FROM ${t.read('aiFeatures')} WHERE ja4 = {ja4:String} AND ${HOURS}`,
      { ...hourRangeParams(range), ja4 },
    );
    const { rows: n = 0, ...features } = rows[0] ?? {};
    // avg() of nothing is NaN, which JSON cannot carry
    for (const k of Object.keys(features)) if (!Number.isFinite(features[k])) features[k] = 0;
    return { rows: n, features };
  });
}
