// The SQL that reads raw feature rows, one per window x client IP x JA4 x
// host. The hourly window reads sql/0008's view_ai_features_1h (built on the
// hourly aggregates); the 5-minute window, for near-real-time scoring, reads
// http_logs directly with the same formulas, since no aggregate is that fine.
// Both return the same columns (RawFeatureRow), so everything after the
// query is shared. Time bounds are epoch seconds in {from:UInt32}/{to:UInt32}.
import type { Storage } from '../../storage/index.js';

export type WindowKind = '1h' | '5m';

export const WINDOW_SECONDS: Record<WindowKind, number> = { '1h': 3600, '5m': 300 };

/** One row as the queries return it (numbers as JSON numbers). */
export interface RawFeatureRow {
  window_start: number;
  client_ip: string;
  ja4: string;
  host: string;
  requests: number;
  active_seconds: number;
  distinct_paths: number;
  distinct_paths_ratio: number;
  status_2xx_ratio: number;
  status_3xx_ratio: number;
  status_4xx_ratio: number;
  status_5xx_ratio: number;
  no_referer_ratio: number;
  no_accept_language_ratio: number;
  no_cookies_ratio: number;
  distinct_ja4h: number;
  distinct_header_orders: number;
  header_order_diversity: number;
  distinct_uas: number;
  browser_ua_ratio: number;
  ua_ja4_mismatch_ratio: number;
  h2_h3_ratio: number;
  bytes_out_per_request: number;
  asn: number;
  country: string;
  asn_label: string;
  bot_ip_name: string;
  bot_ja4_name: string;
  crawler_rule: string;
  iat_n: number;
  iat_mean_ms: number;
  iat_cv: number;
  iat_lag1_autocorr: number;
  benford_n: number;
  benford_mad: number;
  benford_chi2: number;
  ja4_requests: number | null;
  ja4_h2_ratio: number | null;
  ja4_h3_ratio: number | null;
  ja4_browser_ua_ratio: number | null;
  ja4_distinct_uas: number | null;
  ja4_distinct_paths: number | null;
  ja4_distinct_ips: number | null;
  ja4_volume_rank: number | null;
  ja4_volume_quantile: number | null;
}

const HOURLY_COLUMNS = `
    toUInt32(toUnixTimestamp(hour)) AS window_start,
    IPv6NumToString(client_ip) AS client_ip, toString(ja4) AS ja4, toString(host) AS host,
    requests, active_seconds, distinct_paths, distinct_paths_ratio,
    status_2xx_ratio, status_3xx_ratio, status_4xx_ratio, status_5xx_ratio,
    no_referer_ratio, no_accept_language_ratio, no_cookies_ratio,
    distinct_ja4h, distinct_header_orders, header_order_diversity, distinct_uas,
    browser_ua_ratio, ua_ja4_mismatch_ratio, h2_h3_ratio, bytes_out_per_request,
    asn, toString(country) AS country, toString(asn_label) AS asn_label,
    toString(bot_ip_name) AS bot_ip_name, toString(bot_ja4_name) AS bot_ja4_name, toString(crawler_rule) AS crawler_rule,
    iat_n, iat_mean_ms, iat_cv, iat_lag1_autocorr, benford_n, benford_mad, benford_chi2,
    ja4_requests, ja4_h2_ratio, ja4_h3_ratio, ja4_browser_ua_ratio,
    ja4_distinct_uas, ja4_distinct_paths, ja4_distinct_ips, ja4_volume_rank, ja4_volume_quantile`;

function hourlySql(storage: Storage): string {
  return `SELECT ${HOURLY_COLUMNS}
FROM ${storage.tables.read('aiFeatures')}
WHERE hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
ORDER BY window_start, client_ip, ja4, host`;
}

// The same formulas as view_ai_features_1h, over 5-minute buckets of
// http_logs: keep the two in step (test/detector-features-windows.test.ts
// compares them over a full hour). Except the per-JA4 signals: a 5-minute
// window takes those of the previous complete hour. Its own hour is still
// running when the window is scored live, while training reads past
// windows whose hour is complete: the same join would give the model
// hour-to-date volumes live (a twelfth of the hour's at its first window)
// and whole-hour volumes in training. The previous hour is complete in
// both. A JA4 it did not see reads as zeros (no traffic), as anywhere else.
function fiveMinuteSql(storage: Storage): string {
  return `WITH
    arrayMap(x -> toFloat64(x), arrayPopFront(arrayDifference(arrayMap(x -> toInt64(x), f.ts_us)))) AS iat_us,
    if(length(iat_us) > 0, arrayAvg(iat_us), 0) AS iat_mean_us,
    arraySum(arrayMap(x -> pow(x - iat_mean_us, 2), iat_us)) AS iat_ss,
    arrayMap(x -> toUInt8(substring(toString(toUInt64(x)), 1, 1)), arrayFilter(x -> x >= 1, iat_us)) AS iat_digits,
    arrayMap(d -> countEqual(iat_digits, d) / greatest(length(iat_digits), 1), range(1, 10)) AS benford_observed,
    arrayMap(d -> log10(1 + 1 / d), range(1, 10)) AS benford_expected
SELECT
    toUInt32(toUnixTimestamp(f.bucket)) AS window_start,
    IPv6NumToString(f.client_ip) AS client_ip, toString(f.ja4) AS ja4, toString(f.host) AS host,
    f.requests AS requests,
    dateDiff('millisecond', f.first_seen, f.last_seen) / 1000 AS active_seconds,
    f.distinct_paths AS distinct_paths,
    f.distinct_paths / f.requests AS distinct_paths_ratio,
    f.status_2xx / f.requests AS status_2xx_ratio,
    f.status_3xx / f.requests AS status_3xx_ratio,
    f.status_4xx / f.requests AS status_4xx_ratio,
    f.status_5xx / f.requests AS status_5xx_ratio,
    f.no_referer / f.requests AS no_referer_ratio,
    f.no_accept_language / f.requests AS no_accept_language_ratio,
    f.no_cookies / f.requests AS no_cookies_ratio,
    f.distinct_ja4h AS distinct_ja4h,
    f.distinct_header_orders AS distinct_header_orders,
    f.distinct_header_orders / f.requests AS header_order_diversity,
    f.distinct_uas AS distinct_uas,
    f.browser_ua / f.requests AS browser_ua_ratio,
    f.ua_ja4_mismatch / f.requests AS ua_ja4_mismatch_ratio,
    (f.h2 + f.h3) / f.requests AS h2_h3_ratio,
    f.bytes_out / f.requests AS bytes_out_per_request,
    f.asn AS asn, toString(f.country) AS country, toString(f.asn_label) AS asn_label,
    toString(f.bot_ip_name) AS bot_ip_name, toString(f.bot_ja4_name) AS bot_ja4_name, toString(f.crawler_rule) AS crawler_rule,
    length(iat_us) AS iat_n,
    iat_mean_us / 1000 AS iat_mean_ms,
    if(iat_mean_us > 0, sqrt(arrayAvg(arrayMap(x -> pow(x - iat_mean_us, 2), iat_us))) / iat_mean_us, 0) AS iat_cv,
    if(length(iat_us) >= 3 AND iat_ss > 0,
       arraySum(arrayMap((a, b) -> (a - iat_mean_us) * (b - iat_mean_us), arrayPopBack(iat_us), arrayPopFront(iat_us))) / iat_ss,
       0) AS iat_lag1_autocorr,
    length(iat_digits) AS benford_n,
    if(length(iat_digits) > 0, arrayAvg(arrayMap((p, e) -> abs(p - e), benford_observed, benford_expected)), 0) AS benford_mad,
    if(length(iat_digits) > 0,
       length(iat_digits) * arraySum(arrayMap((p, e) -> pow(p - e, 2) / e, benford_observed, benford_expected)), 0) AS benford_chi2,
    s.requests AS ja4_requests,
    s.h2_ratio AS ja4_h2_ratio,
    s.h3_ratio AS ja4_h3_ratio,
    s.browser_ua_ratio AS ja4_browser_ua_ratio,
    s.distinct_uas AS ja4_distinct_uas,
    s.distinct_paths AS ja4_distinct_paths,
    s.distinct_ips AS ja4_distinct_ips,
    s.volume_rank AS ja4_volume_rank,
    s.volume_quantile AS ja4_volume_quantile
FROM
(
    SELECT
        toStartOfInterval(toDateTime(ts, 'UTC'), INTERVAL 5 MINUTE) AS bucket,
        toStartOfHour(bucket) - INTERVAL 1 HOUR AS signals_hour,
        client_ip, ja4, host,
        count() AS requests,
        countIf(status >= 200 AND status < 300) AS status_2xx,
        countIf(status >= 300 AND status < 400) AS status_3xx,
        countIf(status >= 400 AND status < 500) AS status_4xx,
        countIf(status >= 500) AS status_5xx,
        countIf(referer = '') AS no_referer,
        countIf(accept_language = '') AS no_accept_language,
        countIf(empty(cookie_names)) AS no_cookies,
        countIf(ua_is_browser = 1) AS browser_ua,
        countIf(ua_ja4_mismatch = 1) AS ua_ja4_mismatch,
        countIf(http_major = 2) AS h2,
        countIf(http_major = 3) AS h3,
        sum(l.bytes_out) AS bytes_out,
        min(ts) AS first_seen,
        max(ts) AS last_seen,
        max(l.asn) AS asn,
        max(l.country) AS country,
        max(l.asn_label) AS asn_label,
        max(l.bot_ip_name) AS bot_ip_name,
        max(l.bot_ja4_name) AS bot_ja4_name,
        max(l.crawler_rule) AS crawler_rule,
        uniq(path) AS distinct_paths,
        uniq(ja4h) AS distinct_ja4h,
        uniq(cityHash64(header_names)) AS distinct_header_orders,
        uniq(user_agent) AS distinct_uas,
        groupArraySorted(1000)(toUInt64(toUnixTimestamp64Micro(ts))) AS ts_us
    FROM ${storage.tables.read('httpLogs')} AS l
    WHERE ts >= toDateTime64({from:UInt32}, 6, 'UTC') AND ts < toDateTime64({to:UInt32}, 6, 'UTC')
    GROUP BY bucket, client_ip, ja4, host
) AS f
LEFT JOIN
(
    SELECT * FROM ${storage.tables.read('ja4Signals')}
    WHERE hour >= toStartOfHour(toDateTime({from:UInt32}, 'UTC')) - INTERVAL 1 HOUR AND hour < toDateTime({to:UInt32}, 'UTC') - INTERVAL 1 HOUR
) AS s ON s.hour = f.signals_hour AND s.ja4 = f.ja4
ORDER BY window_start, client_ip, ja4, host`;
}

/** Raw feature rows of the windows that start in [fromS, toS) (epoch seconds). */
export async function queryRawFeatures(storage: Storage, window: WindowKind, fromS: number, toS: number): Promise<RawFeatureRow[]> {
  const sql = window === '1h' ? hourlySql(storage) : fiveMinuteSql(storage);
  // join_use_nulls is not an option: the hourly view has its JOIN inside and
  // refuses a setting that changes its column types, so a JA4 missing from
  // the signals (only possible while its aggregates are being written) reads
  // as zeros in both windows alike
  return storage.query<RawFeatureRow>(sql, { from: Math.floor(fromS), to: Math.ceil(toS) });
}

/** The most frequent User-Agent per client IP x JA4 x host in [fromS, toS), for the detections. */
export async function queryTopUserAgents(storage: Storage, fromS: number, toS: number, clientIps: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (clientIps.length === 0) return out;
  const rows = await storage.query<{ client_ip: string; ja4: string; host: string; ua: string }>(
    `SELECT IPv6NumToString(client_ip) AS client_ip, toString(ja4) AS ja4, toString(host) AS host, topK(1)(user_agent)[1] AS ua
     FROM ${storage.tables.read('httpLogs')}
     WHERE ts >= toDateTime64({from:UInt32}, 6, 'UTC') AND ts < toDateTime64({to:UInt32}, 6, 'UTC')
       AND client_ip IN (SELECT toIPv6(arrayJoin({ips:Array(String)})))
     GROUP BY client_ip, ja4, host`,
    { from: Math.floor(fromS), to: Math.ceil(toS), ips: clientIps },
  );
  for (const r of rows) out.set(featureKey(displayIp(r.client_ip), r.ja4, r.host), r.ua);
  return out;
}

/**
 * A time for a DateTime64 column in JSONEachRow: text, since a JSON number
 * there is read as ticks of the column's precision (ms), not seconds.
 */
export function dateTime64Text(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** '::ffff:1.2.3.4' (how IPv6 columns print IPv4) -> '1.2.3.4' */
export function displayIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function featureKey(clientIp: string, ja4: string, host: string): string {
  return `${clientIp}\u0000${ja4}\u0000${host}`;
}
