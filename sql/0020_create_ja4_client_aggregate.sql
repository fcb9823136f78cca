-- Per JA4 x hour x client IP (issue 8): the JA4 page's client IPs. Over a
-- week they read the JA4's rows of http_logs (one key range per hour, a
-- granule or two of mostly other JA4s' rows each: 1.6M rows read for 74k
-- requests of a top JA4 on the 10M-row bench); here the JA4 is the key's
-- prefix and a week is its clients of each hour. Keeps what http_logs keeps
-- (its TTL). max() as in the route: a client's ASN, country and last
-- request. Readers GROUP BY the key.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_ip_1h {{ON_CLUSTER}}
(
    ja4                 LowCardinality(String),
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    client_ip           IPv6 CODEC(ZSTD(1)),
    requests            SimpleAggregateFunction(sum, UInt64),
    asn                 SimpleAggregateFunction(max, UInt32),
    country             SimpleAggregateFunction(max, LowCardinality(String)),
    last_seen           SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: one JA4's client IPs over a window (ja4 prefix, then the hour range).
ORDER BY (ja4, hour, client_ip)
TTL hour + INTERVAL {{TTL_DAYS http_logs}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice
SETTINGS non_replicated_deduplication_window = 1000;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_ip_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ja4_ip_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ja4_ip_1h, cityHash64(ja4));

-- Backfill from http_logs (bounded by its TTL), before the view exists, as
-- in sql/0018: rows written during the backfill itself could be missed,
-- none counted twice.
INSERT INTO {{READ ja4_processing.agg_ja4_ip_1h}} (ja4, hour, client_ip, requests, asn, country, last_seen)
SELECT ja4, toStartOfHour(toDateTime(ts, 'UTC')) AS hour, client_ip, count(), max(asn), max(country), max(ts)
FROM {{READ ja4_processing.http_logs}}
GROUP BY ja4, hour, client_ip;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ja4_ip_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ja4_ip_1h
AS
SELECT
    http_logs.ja4 AS ja4,
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    http_logs.client_ip AS client_ip,
    count() AS requests,
    max(http_logs.asn) AS asn,
    max(http_logs.country) AS country,
    max(http_logs.ts) AS last_seen
FROM ja4_processing.http_logs
GROUP BY ja4, hour, client_ip;
