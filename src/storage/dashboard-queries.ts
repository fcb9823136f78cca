// The dashboard's main queries (issue 8 serves them; the storage benchmark
// times them on 10M rows). Every value from a user is a query parameter.
// They read the hourly aggregates wherever an hour is fine enough: a window
// of a week is then a few thousand pre-merged rows, not millions of requests.
// Windows of the aggregate-backed queries are whole hours (the hour holding
// `from` up to `to`).
import type { Storage } from './database.js';
import type { TableResolver } from './tables.js';

export interface TimeRange {
  /** inclusive, 'YYYY-MM-DD hh:mm:ss[.ffffff]' UTC or a Date */
  from: Date | string;
  /** exclusive */
  to: Date | string;
}

export interface DashboardQuery {
  name: string;
  sql: string;
  params: Record<string, unknown>;
}

function ts(value: Date | string): string {
  return typeof value === 'string' ? value : value.toISOString().replace('T', ' ').replace('Z', '');
}

const seconds = (value: Date | string): string => ts(value).slice(0, 19);

const HOURS = 'hour >= toStartOfHour({from:DateTime(\'UTC\')}) AND hour < {to:DateTime(\'UTC\')}';

// Aliases differ from column names on purpose: ClickHouse substitutes an
// alias inside other expressions of the same SELECT.

/** Requests, unique IPs/JA4s/hosts, share of automated traffic and of errors (agg_traffic_1h). */
export function overviewKpisQuery(t: TableResolver, range: TimeRange): DashboardQuery {
  return {
    name: 'overview KPIs',
    sql: `SELECT sum(requests) AS total_requests, uniqCombinedMerge(12)(client_ips) AS unique_ips, uniqCombinedMerge(12)(ja4_values) AS unique_ja4s,
                 uniqExact(host) AS hosts, sum(automated) / greatest(total_requests, 1) AS bot_share,
                 sum(errors) / greatest(total_requests, 1) AS error_share
          FROM ${t.read('aggTraffic')}
          WHERE ${HOURS}`,
    params: { from: seconds(range.from), to: seconds(range.to) },
  };
}

export function detectionsByLevelQuery(t: TableResolver, range: TimeRange): DashboardQuery {
  return {
    name: 'detections by threat level',
    sql: `SELECT threat_level, count() AS detections, uniq(client_ip) AS ips
          FROM ${t.read('mlDetectedAnomalies')}
          WHERE detected_at >= {from:DateTime64(3, 'UTC')} AND detected_at < {to:DateTime64(3, 'UTC')}
          GROUP BY threat_level ORDER BY detections DESC`,
    params: { from: ts(range.from), to: ts(range.to) },
  };
}

/**
 * The busiest JA4s with their spread. Two steps: the top N by request count
 * (plain sums), then the distinct counts (state merges, the costly part) for
 * those N only, found through the (hour, ja4) key.
 */
export function topJa4sQuery(t: TableResolver, range: TimeRange, limit = 20): DashboardQuery {
  const agg = t.read('aggJa4');
  return {
    name: 'top JA4s',
    sql: `SELECT ja4, sum(requests) AS total_requests, uniqCombinedMerge(12)(client_ips) AS ips, uniqMerge(user_agents) AS distinct_uas,
                 sum(browser_ua) / total_requests AS browser_ua_ratio, (sum(h2) + sum(h3)) / total_requests AS h2_h3_ratio,
                 sum(automated) / total_requests AS automated_ratio,
                 dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'application', ('ja4', toString(ja4)), '') AS application,
                 dictGetOrDefault('ja4_processing.dict_bot_ja4', 'bot_name', tuple(toString(ja4)), '') AS bot_name
          FROM ${agg}
          WHERE ${HOURS}
            AND ja4 IN (SELECT ja4 FROM ${agg} WHERE ${HOURS} GROUP BY ja4 ORDER BY sum(requests) DESC LIMIT {limit:UInt32})
          GROUP BY ja4 ORDER BY total_requests DESC`,
    params: { from: seconds(range.from), to: seconds(range.to), limit },
  };
}

/** One JA4 over time: buckets of an hour or more from agg_ja4_1h, finer ones from http_logs. */
export function ja4TimelineQuery(t: TableResolver, ja4: string, range: TimeRange, bucketMinutes = 5): DashboardQuery {
  if (bucketMinutes >= 60 && bucketMinutes % 60 === 0) {
    return {
      name: "one JA4's timeline",
      sql: `SELECT toStartOfInterval(hour, toIntervalHour({hours:UInt32})) AS bucket, sum(requests) AS total_requests,
                   uniqCombinedMerge(12)(client_ips) AS ips, sum(errors) AS error_count
            FROM ${t.read('aggJa4')}
            WHERE ja4 = {ja4:String} AND ${HOURS}
            GROUP BY bucket ORDER BY bucket`,
      params: { ja4, from: seconds(range.from), to: seconds(range.to), hours: bucketMinutes / 60 },
    };
  }
  return {
    name: "one JA4's timeline",
    sql: `SELECT toStartOfInterval(ts, toIntervalMinute({bucket:UInt32})) AS bucket, count() AS total_requests,
                 uniq(client_ip) AS ips, countIf(status >= 400) AS error_count
          FROM ${t.read('httpLogs')}
          WHERE ja4 = {ja4:String} AND ts >= {from:DateTime64(6, 'UTC')} AND ts < {to:DateTime64(6, 'UTC')}
          GROUP BY bucket ORDER BY bucket`,
    params: { ja4, from: ts(range.from), to: ts(range.to), bucket: bucketMinutes },
  };
}

/**
 * One IP per hour: requests, the JA4s and hosts it used, distinct paths and
 * UAs, errors, its network. From agg_host_ip_ja4_1h, whose key (hour,
 * client_ip, ...) finds the IP with one range per hour.
 */
export function ipHistoryQuery(t: TableResolver, ip: string, range: TimeRange): DashboardQuery {
  return {
    name: "one IP's history",
    sql: `SELECT hour AS hour_start, sum(requests) AS total_requests, groupUniqArray(toString(ja4)) AS ja4s,
                 groupUniqArray(toString(host)) AS hosts, uniqMerge(paths) AS distinct_paths, uniqMerge(user_agents) AS distinct_uas,
                 sum(status_4xx) + sum(status_5xx) AS error_count, max(asn) AS client_asn, max(country) AS client_country,
                 max(bot_ip_name) AS bot_network, max(crawler_rule) AS rule
          FROM ${t.read('aggHostIpJa4')}
          WHERE client_ip = toIPv6({ip:String}) AND ${HOURS}
          GROUP BY hour ORDER BY hour`,
    params: { ip, from: seconds(range.from), to: seconds(range.to) },
  };
}

export async function runDashboardQuery<T = Record<string, unknown>>(storage: Storage, q: DashboardQuery): Promise<T[]> {
  return storage.query<T>(q.sql, q.params);
}
