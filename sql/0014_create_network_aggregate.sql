-- Per hour x ASN x country (issue 8): the overview's top ASNs and top
-- countries. Over a week those read agg_host_ip_ja4_1h (one row per hour x
-- IP x JA4 x host: millions of rows, > 300 ms on 10M requests); here a week
-- is 168 hours x the networks seen, a few thousand rows. Same conventions
-- as sql/0007: counters are SimpleAggregateFunction(sum), the distinct IP
-- count a uniqCombined(12) state; readers GROUP BY the key.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_network_1h {{ON_CLUSTER}}
(
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    asn                 UInt32,
    country             LowCardinality(String),
    requests            SimpleAggregateFunction(sum, UInt64),
    -- as in agg_traffic_1h: a known bot network or JA4, a DENY crawler
    -- rule, or a browser UA over a JA4 that no browser reference has
    automated           SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),
    -- uniqCombined(12): see agg_traffic_1h (a week's top merges many states)
    client_ips          AggregateFunction(uniqCombined(12), IPv6)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: top ASNs and top countries of a window (hour prefix, then
-- GROUP BY asn or country over the few rows of each hour).
ORDER BY (hour, asn, country)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice
SETTINGS non_replicated_deduplication_window = 1000;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_network_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_network_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_network_1h, cityHash64(asn, country));

-- Backfill the hours before this migration from the IP-level aggregate, so
-- an upgraded installation keeps its history. Done before the view exists
-- and up to the current hour only: the view then counts every row inserted
-- after it, and nothing is counted twice (the current hour misses what
-- arrived before the upgrade). The crawler rules' DENY is not in that
-- aggregate, so `automated` there is bot networks, bot JA4s and UA/JA4
-- mismatches.
INSERT INTO {{READ ja4_processing.agg_network_1h}} (hour, asn, country, requests, automated, errors, client_ips)
SELECT hour, asn, country,
       sum(requests),
       sum(if(bot_ip_name != '' OR bot_ja4_name != '', requests, ua_ja4_mismatch)),
       sum(status_4xx + status_5xx),
       uniqCombinedState(12)(client_ip)
FROM {{READ ja4_processing.agg_host_ip_ja4_1h}}
WHERE hour < toStartOfHour(now())
GROUP BY hour, asn, country;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_network_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_network_1h
AS
SELECT
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    http_logs.asn AS asn,
    http_logs.country AS country,
    count() AS requests,
    countIf(bot_ip_name != '' OR bot_ja4_name != '' OR crawler_action = 'DENY' OR ua_ja4_mismatch = 1) AS automated,
    countIf(status >= 400) AS errors,
    uniqCombinedState(12)(client_ip) AS client_ips
FROM ja4_processing.http_logs
GROUP BY hour, asn, country;
