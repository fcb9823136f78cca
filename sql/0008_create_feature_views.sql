-- Read views over the hourly aggregates. {{READ t}} is t on one node and
-- t_dist (the Distributed table) on a cluster.

-- JA4 signals per hour (after Cloudflare's): protocol mix, browser-UA share,
-- spread over UAs/paths/IPs/ASNs and the request-volume rank and quantile
-- among the JA4s of that hour.
CREATE VIEW IF NOT EXISTS ja4_processing.view_ja4_signals_1h {{ON_CLUSTER}}
AS
SELECT
    hour,
    ja4,
    requests,
    h2 / requests AS h2_ratio,
    h3 / requests AS h3_ratio,
    browser_ua / requests AS browser_ua_ratio,
    ua_ja4_mismatch / requests AS ua_ja4_mismatch_ratio,
    bot_ip / requests AS bot_ip_ratio,
    status_4xx / requests AS status_4xx_ratio,
    distinct_uas,
    distinct_paths,
    distinct_ips,
    distinct_hosts,
    distinct_asns,
    distinct_ja4h,
    rank() OVER (PARTITION BY hour ORDER BY requests DESC) AS volume_rank,
    percent_rank() OVER (PARTITION BY hour ORDER BY requests ASC) AS volume_quantile
FROM
(
    SELECT
        hour,
        ja4,
        sum(requests) AS requests,
        sum(h2) AS h2,
        sum(h3) AS h3,
        sum(browser_ua) AS browser_ua,
        sum(ua_ja4_mismatch) AS ua_ja4_mismatch,
        sum(bot_ip) AS bot_ip,
        sum(status_4xx) AS status_4xx,
        uniqMerge(user_agents) AS distinct_uas,
        uniqMerge(paths) AS distinct_paths,
        uniqCombinedMerge(12)(client_ips) AS distinct_ips,
        uniqMerge(hosts) AS distinct_hosts,
        uniqMerge(asns) AS distinct_asns,
        uniqMerge(ja4h_values) AS distinct_ja4h
    FROM {{READ ja4_processing.agg_ja4_1h}}
    GROUP BY hour, ja4
);

-- The detector's features, one row per hour x client IP x JA4 x host.
-- Timing features come from the sorted sample of request times (the first
-- 1000 of the hour): inter-arrival times (IAT) in µs, their mean (ms),
-- coefficient of variation, lag-1 autocorrelation and the deviation of
-- their first significant digits from Benford's law (mean absolute
-- deviation and chi-square, with the sample size n: below ~100 intervals
-- the deviation is noise, and the detector calibrates against n).
CREATE VIEW IF NOT EXISTS ja4_processing.view_ai_features_1h {{ON_CLUSTER}}
AS
-- per-row intermediate arrays over the sorted request times
WITH
    arrayMap(x -> toFloat64(x), arrayPopFront(arrayDifference(arrayMap(x -> toInt64(x), f.ts_us)))) AS iat_us,
    if(length(iat_us) > 0, arrayAvg(iat_us), 0) AS iat_mean_us,
    arraySum(arrayMap(x -> pow(x - iat_mean_us, 2), iat_us)) AS iat_ss,
    -- first significant digit of each positive interval (integer µs)
    arrayMap(x -> toUInt8(substring(toString(toUInt64(x)), 1, 1)), arrayFilter(x -> x >= 1, iat_us)) AS iat_digits,
    arrayMap(d -> countEqual(iat_digits, d) / greatest(length(iat_digits), 1), range(1, 10)) AS benford_observed,
    arrayMap(d -> log10(1 + 1 / d), range(1, 10)) AS benford_expected
SELECT
    f.hour AS hour,
    f.client_ip AS client_ip,
    f.ja4 AS ja4,
    f.host AS host,
    f.requests AS requests,
    f.requests / 60 AS requests_per_minute,
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
    f.asn AS asn,
    f.country AS country,
    f.asn_label AS asn_label,
    f.bot_ip_name AS bot_ip_name,
    f.bot_ja4_name AS bot_ja4_name,
    f.crawler_rule AS crawler_rule,
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
        hour, client_ip, ja4, host,
        sum(requests) AS requests,
        sum(status_2xx) AS status_2xx,
        sum(status_3xx) AS status_3xx,
        sum(status_4xx) AS status_4xx,
        sum(status_5xx) AS status_5xx,
        sum(no_referer) AS no_referer,
        sum(no_accept_language) AS no_accept_language,
        sum(no_cookies) AS no_cookies,
        sum(browser_ua) AS browser_ua,
        sum(ua_ja4_mismatch) AS ua_ja4_mismatch,
        sum(h2) AS h2,
        sum(h3) AS h3,
        sum(bytes_out) AS bytes_out,
        min(first_seen) AS first_seen,
        max(last_seen) AS last_seen,
        max(asn) AS asn,
        max(country) AS country,
        max(asn_label) AS asn_label,
        max(bot_ip_name) AS bot_ip_name,
        max(bot_ja4_name) AS bot_ja4_name,
        max(crawler_rule) AS crawler_rule,
        uniqMerge(paths) AS distinct_paths,
        uniqMerge(ja4h_values) AS distinct_ja4h,
        uniqMerge(header_orders) AS distinct_header_orders,
        uniqMerge(user_agents) AS distinct_uas,
        groupArraySortedMerge(1000)(ts_sample) AS ts_us
    FROM {{READ ja4_processing.agg_host_ip_ja4_1h}}
    GROUP BY hour, client_ip, ja4, host
) AS f
LEFT JOIN ja4_processing.view_ja4_signals_1h AS s ON s.hour = f.hour AND s.ja4 = f.ja4;
