// IP investigation (/ip/{ip}): KPIs and network, hourly history (JA4 and
// UA rotation), request cadence, and the detector's scores with their
// explanations.
import { ROUTES, type IpCadenceResponse, type IpHistoryResponse, type IpScore, type IpScoresResponse, type IpSummaryResponse } from '../api-types.js';
import { ipHistoryQuery } from '../../storage/index.js';
import { currentClassification } from '../classification-rows.js';
import type { DashboardDeps } from '../deps.js';
import { intParam, ipValue, pageParams, rangeParam } from '../http/params.js';
import type { Router } from '../router.js';
import { API_SETTINGS, DETECTED, HOURS, TS, hourRangeParams, rangeParams, select, toPage } from '../sql.js';

export function register(router: Router, { storage }: DashboardDeps): void {
  const t = storage.tables;
  const IP = 'client_ip = toIPv6({ip:String})';

  router.add(ROUTES.ip, async ({ req }): Promise<IpSummaryResponse> => {
    const ip = ipValue('ip', req.params.ip);
    const range = rangeParam(req.query);
    const [kpis, det, network, classification] = await Promise.all([
      select<Omit<IpSummaryResponse['kpis'], 'detections' | 'max_score'>>(
        storage,
        `SELECT sum(requests) AS total_requests, uniqExact(ja4) AS ja4s, uniqExact(host) AS hosts, uniqMerge(user_agents) AS distinct_uas,
                if(total_requests = 0, NULL, min(first_seen)) AS first_seen, if(total_requests = 0, NULL, max(last_seen)) AS last_seen
         FROM ${t.read('aggHostIpJa4')} WHERE ${IP} AND ${HOURS}`,
        { ...hourRangeParams(range), ip },
      ),
      select<{ detections: number; max_score: number }>(
        storage,
        `SELECT count() AS detections, if(detections = 0, 0, max(score)) AS max_score FROM ${t.read('mlDetectedAnomalies')} WHERE ${IP} AND ${DETECTED}`,
        { ...rangeParams(range), ip },
      ),
      // the network facts come from the dictionaries, so an IP without traffic still has them
      select<IpSummaryResponse['network']>(
        storage,
        `SELECT dictGetOrDefault('ja4_processing.dict_ip_asn', 'asn', toIPv6({ip:String}), toUInt32(0)) AS asn,
                dictGetOrDefault('ja4_processing.dict_ip_asn', 'name', toIPv6({ip:String}), '') AS asn_name,
                dictGetOrDefault('ja4_processing.dict_ip_asn', 'country_code', toIPv6({ip:String}), '') AS country,
                dictGetOrDefault('ja4_processing.dict_asn_reputation', 'label', toUInt64(asn), '') AS asn_label,
                dictGetOrDefault('ja4_processing.dict_bot_ip_prefixes', 'bot_name', toIPv6({ip:String}), '') AS bot_network`,
        { ip },
      ),
      currentClassification(storage, 'ip', ip),
    ]);
    const k = kpis[0] ?? { total_requests: 0, ja4s: 0, hosts: 0, distinct_uas: 0, first_seen: null, last_seen: null };
    return { ip, kpis: { ...k, detections: det[0]?.detections ?? 0, max_score: det[0]?.max_score ?? 0 }, network: network[0]!, classification };
  });

  router.add(ROUTES.ipHistory, async ({ req }): Promise<IpHistoryResponse> => {
    const ip = ipValue('ip', req.params.ip);
    const range = rangeParam(req.query);
    const q = ipHistoryQuery(t, ip, range);
    const [hours, user_agents] = await Promise.all([
      storage.query<IpHistoryResponse['hours'][number]>(
        `SELECT hour_start, total_requests, ja4s, hosts, distinct_paths, distinct_uas, error_count FROM (${q.sql})`,
        q.params,
        API_SETTINGS,
      ),
      select<IpHistoryResponse['user_agents'][number]>(
        storage,
        // agg_ip_ua_1h (sql/0015), keyed by IP first: http_logs is keyed by hour then JA4, so one IP
        // over a week read every row of the week; whole hours, like the hours list above
        `SELECT hour_start, user_agent, total_requests FROM
           (SELECT hour AS hour_start, user_agent, sum(requests) AS total_requests FROM ${t.read('aggIpUa')}
            WHERE ${IP} AND ${HOURS} GROUP BY hour_start, user_agent)
         ORDER BY hour_start, total_requests DESC, user_agent LIMIT 5 BY hour_start`,
        { ...hourRangeParams(range), ip },
      ),
    ]);
    return { hours, user_agents };
  });

  router.add(ROUTES.ipCadence, async ({ req }): Promise<IpCadenceResponse> => {
    const ip = ipValue('ip', req.params.ip);
    const range = rangeParam(req.query, { maxDays: 1 });
    const bucket = intParam(req.query, 'bucket_seconds', { min: 1, max: 3600, default: 60 });
    const p = { ...rangeParams(range), ip, bucket };
    const [points, iat] = await Promise.all([
      select<IpCadenceResponse['points'][number]>(
        storage,
        `SELECT toStartOfInterval(ts, toIntervalSecond({bucket:UInt32})) AS bucket, count() AS total_requests FROM ${t.read('httpLogs')}
         WHERE ${IP} AND ${TS} GROUP BY bucket ORDER BY bucket LIMIT 100000`,
        p,
      ),
      select<IpCadenceResponse['iat']>(
        storage,
        `SELECT length(d) AS n, if(n = 0, 0, arrayAvg(d) / 1000) AS mean_ms,
                if(n = 0 OR arrayAvg(d) = 0, 0, sqrt(arrayAvg(arrayMap(x -> pow(x - arrayAvg(d), 2), d))) / arrayAvg(d)) AS cv
         FROM (SELECT arrayPopFront(arrayDifference(arraySort(groupArray(100000)(toInt64(toUnixTimestamp64Micro(ts)))))) AS d
               FROM ${t.read('httpLogs')} WHERE ${IP} AND ${TS})`,
        p,
      ),
    ]);
    return { bucket_seconds: bucket, points, iat: iat[0] ?? { n: 0, mean_ms: 0, cv: 0 } };
  });

  router.add(ROUTES.ipScores, async ({ req }): Promise<IpScoresResponse> => {
    const ip = ipValue('ip', req.params.ip);
    const range = rangeParam(req.query);
    const { limit, offset } = pageParams(req.query);
    const rows = await select<IpScore>(
      storage,
      `SELECT s.scored_at AS scored_at, s.window_start AS window_start, toString(s.window) AS window, toString(s.ja4) AS ja4, toString(s.host) AS host,
              toString(s.model_version) AS model_version, s.score AS score, s.score_iforest AS score_iforest, s.score_autoencoder AS score_autoencoder,
              s.score_gbt AS score_gbt, toString(s.threat_level) AS threat_level, s.is_anomaly AS is_anomaly, toString(s.bot_name) AS bot_name,
              arrayMap(x -> toString(x), d.top_features) AS top_features, d.top_contributions AS top_contributions
       FROM (SELECT scored_at, window_start, window, ja4, host, model_version, score, score_iforest, score_autoencoder, score_gbt, threat_level, is_anomaly, bot_name
             FROM ${t.read('mlAllScores')} WHERE ${IP} AND window_start >= toStartOfHour({from:DateTime('UTC')}) AND window_start < {to:DateTime('UTC')}) AS s
       LEFT JOIN (SELECT window_start, window, ja4, host, any(top_features) AS top_features, any(top_contributions) AS top_contributions
                  FROM ${t.read('mlDetectedAnomalies')} WHERE ${IP} AND window_start >= toStartOfHour({from:DateTime('UTC')}) AND window_start < {to:DateTime('UTC')}
                  GROUP BY window_start, window, ja4, host) AS d
         ON d.window_start = s.window_start AND d.window = s.window AND d.ja4 = s.ja4 AND d.host = s.host
       ORDER BY scored_at DESC, ja4, host, window_start DESC, window, model_version LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { ...hourRangeParams(range), ip, limit: limit + 1, offset },
    );
    return toPage(rows, limit, offset);
  });
}
