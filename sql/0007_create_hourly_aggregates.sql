-- Hourly aggregates, fed by materialized views on http_logs. Counters are
-- SimpleAggregateFunction(sum) (merged by AggregatingMergeTree on its own);
-- distinct counts and the request-time sample are -State columns read with
-- -Merge. Readers must GROUP BY the key: rows of one key are merged only
-- eventually.

-- Per hour x client IP x JA4 x host: the detector's unit (view_ai_features_1h).
CREATE TABLE IF NOT EXISTS ja4_processing.agg_host_ip_ja4_1h {{ON_CLUSTER}}
(
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    client_ip           IPv6 CODEC(ZSTD(1)),
    ja4                 LowCardinality(String),
    host                LowCardinality(String),
    requests            SimpleAggregateFunction(sum, UInt64),
    status_2xx          SimpleAggregateFunction(sum, UInt64),
    status_3xx          SimpleAggregateFunction(sum, UInt64),
    status_4xx          SimpleAggregateFunction(sum, UInt64),
    status_5xx          SimpleAggregateFunction(sum, UInt64),
    no_referer          SimpleAggregateFunction(sum, UInt64),
    no_accept_language  SimpleAggregateFunction(sum, UInt64),
    no_cookies          SimpleAggregateFunction(sum, UInt64),
    browser_ua          SimpleAggregateFunction(sum, UInt64),
    ua_ja4_mismatch     SimpleAggregateFunction(sum, UInt64),
    h2                  SimpleAggregateFunction(sum, UInt64),
    h3                  SimpleAggregateFunction(sum, UInt64),
    bytes_out           SimpleAggregateFunction(sum, UInt64),
    first_seen          SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen           SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    -- max() so that a non-empty label wins over '' whatever the merge order
    asn                 SimpleAggregateFunction(max, UInt32),
    country             SimpleAggregateFunction(max, LowCardinality(String)),
    asn_label           SimpleAggregateFunction(max, LowCardinality(String)),
    bot_ip_name         SimpleAggregateFunction(max, LowCardinality(String)),
    bot_ja4_name        SimpleAggregateFunction(max, LowCardinality(String)),
    crawler_rule        SimpleAggregateFunction(max, LowCardinality(String)),
    paths               AggregateFunction(uniq, String),
    ja4h_values         AggregateFunction(uniq, String),
    header_orders       AggregateFunction(uniq, UInt64),
    user_agents         AggregateFunction(uniq, String),
    -- the first 1000 request times of the hour (µs), sorted: the inter-request
    -- timing features (mean, CV, lag-1 autocorrelation, Benford)
    ts_sample           AggregateFunction(groupArraySorted(1000), UInt64),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: the detector's scan of one hour (hour prefix) and the IP
-- investigation page (client_ip second, plus idx_client_ip across hours).
ORDER BY (hour, client_ip, ja4, host)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice;
-- small granules: rows carry big states (ts_sample), and one IP's rows of an
-- hour are few, so 1024-row granules read far less around each match
SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_host_ip_ja4_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_host_ip_ja4_1h
AS
SELECT
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
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
    sum(http_logs.bytes_out) AS bytes_out,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    max(http_logs.asn) AS asn,
    max(http_logs.country) AS country,
    max(http_logs.asn_label) AS asn_label,
    max(http_logs.bot_ip_name) AS bot_ip_name,
    max(http_logs.bot_ja4_name) AS bot_ja4_name,
    max(http_logs.crawler_rule) AS crawler_rule,
    uniqState(path) AS paths,
    uniqState(ja4h) AS ja4h_values,
    uniqState(cityHash64(header_names)) AS header_orders,
    uniqState(user_agent) AS user_agents,
    groupArraySortedState(1000)(toUInt64(toUnixTimestamp64Micro(ts))) AS ts_sample
FROM ja4_processing.http_logs
GROUP BY hour, client_ip, ja4, host;

-- Per hour x header fingerprint (JA4H).
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4h_1h {{ON_CLUSTER}}
(
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    ja4h                String CODEC(ZSTD(1)),
    requests            SimpleAggregateFunction(sum, UInt64),
    status_4xx          SimpleAggregateFunction(sum, UInt64),
    browser_ua          SimpleAggregateFunction(sum, UInt64),
    first_seen          SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen           SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    client_ips          AggregateFunction(uniq, IPv6),
    ja4_values          AggregateFunction(uniq, String),
    hosts               AggregateFunction(uniq, String),
    user_agents         AggregateFunction(uniq, String),
    INDEX idx_ja4h ja4h TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: top header fingerprints of a window (hour prefix) and one JA4H's
-- history (idx_ja4h).
ORDER BY (hour, ja4h)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ja4h_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ja4h_1h
AS
SELECT
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    ja4h,
    count() AS requests,
    countIf(status >= 400 AND status < 500) AS status_4xx,
    countIf(ua_is_browser = 1) AS browser_ua,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    uniqState(client_ip) AS client_ips,
    uniqState(toString(ja4)) AS ja4_values,
    uniqState(toString(host)) AS hosts,
    uniqState(user_agent) AS user_agents
FROM ja4_processing.http_logs
GROUP BY hour, ja4h;

-- Per hour x JA4, across all hosts and clients: the inputs of JA4 signals
-- (h2/h3 ratio, browser-UA ratio, distinct UAs/paths/IPs, volume rank).
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_1h {{ON_CLUSTER}}
(
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    ja4                 LowCardinality(String),
    requests            SimpleAggregateFunction(sum, UInt64),
    h2                  SimpleAggregateFunction(sum, UInt64),
    h3                  SimpleAggregateFunction(sum, UInt64),
    browser_ua          SimpleAggregateFunction(sum, UInt64),
    ua_ja4_mismatch     SimpleAggregateFunction(sum, UInt64),
    bot_ip              SimpleAggregateFunction(sum, UInt64),
    status_4xx          SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),   -- status >= 400
    automated           SimpleAggregateFunction(sum, UInt64),   -- see agg_traffic_1h
    first_seen          SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
    last_seen           SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
    user_agents         AggregateFunction(uniq, String),
    paths               AggregateFunction(uniq, String),
    -- uniqCombined(12): see agg_traffic_1h (top JA4s over a week merge it)
    client_ips          AggregateFunction(uniqCombined(12), IPv6),
    hosts               AggregateFunction(uniq, String),
    asns                AggregateFunction(uniq, UInt32),
    ja4h_values         AggregateFunction(uniq, String)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: top JA4s of a window and the per-hour volume ranking (hour
-- prefix); one JA4's signals over time (ja4 second).
ORDER BY (hour, ja4)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
-- a replayed batch (same insert_deduplication_token) is not counted twice;
-- small granules: every row holds several distinct-count states, and a
-- lookup of one JA4 (or the top 20) in an hour wants a few rows, not 8192
SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_ja4_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_ja4_1h
AS
SELECT
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    ja4,
    count() AS requests,
    countIf(http_major = 2) AS h2,
    countIf(http_major = 3) AS h3,
    countIf(ua_is_browser = 1) AS browser_ua,
    countIf(ua_ja4_mismatch = 1) AS ua_ja4_mismatch,
    countIf(bot_ip_name != '') AS bot_ip,
    countIf(status >= 400 AND status < 500) AS status_4xx,
    countIf(status >= 400) AS errors,
    -- qualified: ua_ja4_mismatch is also an alias of this SELECT
    countIf(http_logs.bot_ip_name != '' OR http_logs.bot_ja4_name != '' OR http_logs.crawler_action = 'DENY'
            OR http_logs.ua_ja4_mismatch = 1) AS automated,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    uniqState(user_agent) AS user_agents,
    uniqState(path) AS paths,
    uniqCombinedState(12)(client_ip) AS client_ips,
    uniqState(toString(host)) AS hosts,
    uniqState(http_logs.asn) AS asns,
    uniqState(ja4h) AS ja4h_values
FROM ja4_processing.http_logs
GROUP BY hour, ja4;

-- Per hour x host, all clients: the overview KPIs and traffic timelines
-- read a handful of rows per hour here instead of scanning http_logs.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_traffic_1h {{ON_CLUSTER}}
(
    hour                DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    host                LowCardinality(String),
    requests            SimpleAggregateFunction(sum, UInt64),
    -- a known bot network or JA4, a DENY crawler rule, or a browser UA over
    -- a JA4 that no browser reference has
    automated           SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),
    bytes_out           SimpleAggregateFunction(sum, UInt64),
    -- uniqCombined(12): exact for small sets, a 4096-cell HyperLogLog for
    -- large ones (~1.6% error), so a week's KPIs merge thousands of states fast
    client_ips          AggregateFunction(uniqCombined(12), IPv6),
    ja4_values          AggregateFunction(uniqCombined(12), String),
    asns                AggregateFunction(uniqCombined(12), UInt32)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
-- Serves: overview KPIs and traffic timelines of a window, all hosts or one.
ORDER BY (hour, host)
TTL hour + INTERVAL {{TTL_DAYS aggregates}} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_traffic_1h_mv {{ON_CLUSTER}}
TO ja4_processing.agg_traffic_1h
AS
SELECT
    toStartOfHour(toDateTime(ts, 'UTC')) AS hour,
    host,
    count() AS requests,
    countIf(bot_ip_name != '' OR bot_ja4_name != '' OR crawler_action = 'DENY' OR ua_ja4_mismatch = 1) AS automated,
    countIf(status >= 400) AS errors,
    sum(http_logs.bytes_out) AS bytes_out,
    uniqCombinedState(12)(client_ip) AS client_ips,
    uniqCombinedState(12)(toString(ja4)) AS ja4_values,
    uniqCombinedState(12)(http_logs.asn) AS asns
FROM ja4_processing.http_logs
GROUP BY hour, host;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_host_ip_ja4_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_host_ip_ja4_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_host_ip_ja4_1h, cityHash64(client_ip));

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4h_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ja4h_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ja4h_1h);

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_ja4_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_ja4_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_ja4_1h);

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_traffic_1h_dist {{ON_CLUSTER}} AS ja4_processing.agg_traffic_1h
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_traffic_1h);
