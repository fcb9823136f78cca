-- Per client IP x hour x user agent (issue 8): the IP page's user-agent
-- rotation. http_logs is ordered by (hour, ja4, client_ip, ts), so one IP
-- over a week means reading every row of the week (7.4M on the 10M-row
-- bench); here the IP is the key's prefix and a week is at most 168 rows
-- per user agent it used.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ip_ua_1h {{ON_CLUSTER}}
(
    client_ip           IPv6,
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    user_agent          String CODEC(ZSTD(1)),
    requests            SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: one IP's user agents over a window (client_ip prefix, then the
-- hour range); readers GROUP BY the key (rows of one key may be unmerged).
ORDER BY (client_ip, hour, user_agent)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice
SETTINGS non_replicated_deduplication_window = 1000;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ip_ua_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ip_ua_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ip_ua_1h, cityHash64(client_ip));

-- Backfill the hours before this migration from http_logs (no aggregate
-- keeps user agents per IP), so an upgraded installation keeps the history
-- it still has. Bounded: only what http_logs retains (its TTL), and up to
-- the current hour only, done before the view exists: the view then counts
-- every row inserted after it and nothing is counted twice (the current
-- hour misses what arrived before the upgrade).
INSERT INTO {{READ ja4_processing.agg_ip_ua_1h}} (client_ip, hour, user_agent, requests)
SELECT client_ip, toStartOfHour(toDateTime(ts, 'UTC')) AS hour, user_agent, count()
FROM {{READ ja4_processing.http_logs}}
WHERE ts < toStartOfHour(now())
  AND ts >= toStartOfHour(now()) - INTERVAL {{TTL_DAYS http_logs}} DAY
GROUP BY client_ip, hour, user_agent;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ip_ua_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ip_ua_1h
AS
SELECT
    http_logs.client_ip AS client_ip,
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    http_logs.user_agent AS user_agent,
    count() AS requests
FROM ja4_processing.http_logs
GROUP BY client_ip, hour, user_agent;
