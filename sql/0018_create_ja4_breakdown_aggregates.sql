-- Per JA4 x hour x network, and per JA4 x hour x user agent (issue 8): the
-- JA4 page's ASN, country and user-agent charts. http_logs is ordered by
-- (hour, ja4, client_ip, ts): one JA4 over a week is one key range per hour,
-- each a granule or two of mostly other JA4s' rows (1.6M rows read for 74k
-- requests of a top JA4 on the 10M-row bench, three scans in parallel:
-- 0.9-1.3 s). Here the JA4 is the key's prefix and a week is 168 hours x
-- the networks or user agents it used. Both keep what http_logs keeps (its
-- TTL), so a window answers the same counts. Readers GROUP BY the key.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_network_1h {{ON_CLUSTER}}
(
    ja4                 LowCardinality(String),
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    asn                 UInt32,
    country             LowCardinality(String),
    requests            SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: one JA4's ASNs and countries over a window (ja4 prefix, then the hour range).
ORDER BY (ja4, hour, asn, country)
TTL hour + INTERVAL {{TTL_DAYS http_logs}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice
SETTINGS non_replicated_deduplication_window = 1000;

-- The user agents' distinct IPs are uniq() states: merged they give what
-- uniq() over the rows gives (its kept hashes do not depend on the order).
-- The page's window ends mid-hour: its readers take the whole hours here
-- and the two partial ones from http_logs (a JA4's hour is one key range).
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_ua_1h {{ON_CLUSTER}}
(
    ja4                 LowCardinality(String),
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    user_agent          String CODEC(ZSTD(1)),
    requests            SimpleAggregateFunction(sum, UInt64),
    client_ips          AggregateFunction(uniq, IPv6)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: one JA4's user agents over a window's whole hours.
ORDER BY (ja4, hour, user_agent)
TTL hour + INTERVAL {{TTL_DAYS http_logs}} DAY
SETTINGS non_replicated_deduplication_window = 1000;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_network_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ja4_network_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ja4_network_1h, cityHash64(ja4));

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_ua_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ja4_ua_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ja4_ua_1h, cityHash64(ja4));

-- Backfill from http_logs (bounded by its TTL), before the views exist: the
-- views then count every row inserted after them. No cut at the current
-- hour: only rows written during the backfill itself (migrations run when a
-- service starts) could be missed, never counted twice.
INSERT INTO {{READ ja4_processing.agg_ja4_network_1h}} (ja4, hour, asn, country, requests)
SELECT ja4, toStartOfHour(toDateTime(ts, 'UTC')) AS hour, asn, country, count()
FROM {{READ ja4_processing.http_logs}}
GROUP BY ja4, hour, asn, country;

INSERT INTO {{READ ja4_processing.agg_ja4_ua_1h}} (ja4, hour, user_agent, requests, client_ips)
SELECT ja4, toStartOfHour(toDateTime(ts, 'UTC')) AS hour, user_agent, count(), uniqState(client_ip)
FROM {{READ ja4_processing.http_logs}}
GROUP BY ja4, hour, user_agent;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ja4_network_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ja4_network_1h
AS
SELECT
    http_logs.ja4 AS ja4,
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    http_logs.asn AS asn,
    http_logs.country AS country,
    count() AS requests
FROM ja4_processing.http_logs
GROUP BY ja4, hour, asn, country;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ja4_ua_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ja4_ua_1h
AS
SELECT
    http_logs.ja4 AS ja4,
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    http_logs.user_agent AS user_agent,
    count() AS requests,
    uniqState(http_logs.client_ip) AS client_ips
FROM ja4_processing.http_logs
GROUP BY ja4, hour, user_agent;
