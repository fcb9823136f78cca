// Overview page: KPIs, detections by threat level, traffic timeline and
// the top JA4s / ASNs / countries / hosts of a window. Reads the hourly
// aggregates (sql/0007), not http_logs: a week is a few thousand rows.
import { ROUTES, TOP_DIMENSIONS, type OverviewResponse, type TimelineResponse, type TopDimension, type TopResponse } from '../api-types.js';
import { detectionsByLevelQuery, overviewKpisQuery, topJa4sQuery } from '../../storage/index.js';
import type { DashboardDeps } from '../deps.js';
import { badField } from '../http/errors.js';
import { intParam, rangeParam } from '../http/params.js';
import type { Router } from '../router.js';
import { API_SETTINGS, HOURS, hourRangeParams, select } from '../sql.js';

export function register(router: Router, { storage }: DashboardDeps): void {
  const t = storage.tables;

  router.add(ROUTES.overview, async ({ req }): Promise<OverviewResponse> => {
    const range = rangeParam(req.query);
    const kq = overviewKpisQuery(t, range);
    const lq = detectionsByLevelQuery(t, range);
    const [kpis, levels] = await Promise.all([
      storage.query<Omit<OverviewResponse['kpis'], 'detections'>>(kq.sql, kq.params, API_SETTINGS),
      storage.query<OverviewResponse['detections_by_level'][number]>(lq.sql, lq.params, API_SETTINGS),
    ]);
    const k = kpis[0] ?? { total_requests: 0, unique_ips: 0, unique_ja4s: 0, hosts: 0, bot_share: 0, error_share: 0 };
    return {
      range: { from: range.from.toISOString(), to: range.to.toISOString() },
      kpis: { ...k, detections: levels.reduce((n, l) => n + l.detections, 0) },
      detections_by_level: levels,
    };
  });

  router.add(ROUTES.overviewTimeline, async ({ req }): Promise<TimelineResponse> => {
    const range = rangeParam(req.query);
    const bucket = intParam(req.query, 'bucket_minutes', { min: 5, max: 1440, default: 60 });
    // below an hour the aggregates are too coarse: count http_logs itself
    const traffic =
      bucket % 60 === 0
        ? `SELECT toStartOfInterval(hour, toIntervalMinute({bucket:UInt32})) AS b, sum(requests) AS total_requests, sum(automated) AS automated, sum(errors) AS errors
           FROM ${t.read('aggTraffic')} WHERE ${HOURS} GROUP BY b`
        : `SELECT toStartOfInterval(ts, toIntervalMinute({bucket:UInt32})) AS b, count() AS total_requests,
                  countIf(bot_ip_name != '' OR bot_ja4_name != '' OR crawler_action = 'DENY' OR ua_ja4_mismatch = 1) AS automated, countIf(status >= 400) AS errors
           FROM ${t.read('httpLogs')} WHERE ts >= {from:DateTime('UTC')} AND ts < {to:DateTime('UTC')} GROUP BY b`;
    const points = await select<TimelineResponse['points'][number]>(
      storage,
      // a bucket with detections and no traffic (or the reverse) has the other side's key at 0 (1970)
      `SELECT toDateTime(greatest(toDateTime(tr.b), toDateTime(d.db)), 'UTC') AS bucket, total_requests, automated, errors, d.detections AS detections
       FROM (${traffic}) AS tr
       FULL OUTER JOIN (SELECT toStartOfInterval(detected_at, toIntervalMinute({bucket:UInt32})) AS db, count() AS detections
                        FROM ${t.read('mlDetectedAnomalies')} WHERE detected_at >= {from:DateTime('UTC')} AND detected_at < {to:DateTime('UTC')} GROUP BY db) AS d
       ON tr.b = d.db
       ORDER BY bucket`,
      { ...hourRangeParams(range), bucket },
    );
    return { bucket_minutes: bucket, points };
  });

  router.add(ROUTES.overviewTop, async ({ req }): Promise<TopResponse> => {
    const dimension = req.params.dimension as TopDimension;
    if (!TOP_DIMENSIONS.includes(dimension)) throw badField('dimension', `must be one of ${TOP_DIMENSIONS.join(', ')}`, dimension);
    const range = rangeParam(req.query);
    const limit = intParam(req.query, 'limit', { min: 1, max: 100, default: 10 });
    const p = { ...hourRangeParams(range), limit };
    let items: TopResponse['items'];
    switch (dimension) {
      case 'ja4': {
        const q = topJa4sQuery(t, range, limit);
        const rows = await storage.query<{ ja4: string; total_requests: number; ips: number; automated_ratio: number; application: string; bot_name: string }>(q.sql, q.params, API_SETTINGS);
        items = rows.map((r) => ({ key: r.ja4, label: r.application || r.bot_name, total_requests: r.total_requests, ips: r.ips, automated_ratio: r.automated_ratio }));
        break;
      }
      case 'host':
        items = await select(
          storage,
          `SELECT toString(host) AS key, '' AS label, sum(requests) AS total_requests, uniqCombinedMerge(12)(client_ips) AS ips, sum(automated) / greatest(total_requests, 1) AS automated_ratio
           FROM ${t.read('aggTraffic')} WHERE ${HOURS} GROUP BY host ORDER BY total_requests DESC LIMIT {limit:UInt32}`,
          p,
        );
        break;
      case 'asn':
      case 'country': {
        // agg_network_1h (sql/0014): a few rows per hour, not one per IP x JA4 x host
        const col = dimension === 'asn' ? 'asn' : 'country';
        items = await select(
          storage,
          `SELECT toString(k) AS key, ${dimension === 'asn' ? "dictGetOrDefault('ja4_processing.dict_asn_reputation', 'label', toUInt64(k), '')" : "''"} AS label,
                  total_requests, ips, automated_ratio
           FROM (SELECT ${col} AS k, sum(requests) AS total_requests, uniqCombinedMerge(12)(client_ips) AS ips, sum(automated) / greatest(total_requests, 1) AS automated_ratio
                 FROM ${t.read('aggNetwork')} WHERE ${HOURS}
                 GROUP BY k ORDER BY total_requests DESC LIMIT {limit:UInt32})`,
          p,
        );
        break;
      }
    }
    return { dimension, items };
  });
}
