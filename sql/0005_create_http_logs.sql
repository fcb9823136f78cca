-- http_logs: the canonical table, one row per HTTP request with its
-- connection's TLS fingerprints, the HTTP facts from mod_reqin_log, JA4H and
-- the enrichment. Written only by ja4_processing.http_logs_mv (from the
-- correlator's ja4_logs.http_logs_ingest) and by `ja4 db import`.

-- What the correlator writes: a correlated request, not yet enriched. Null
-- engine: nothing is stored here, the insert only feeds the materialized view.
CREATE TABLE IF NOT EXISTS ja4_logs.http_logs_ingest {{ON_CLUSTER}}
(
    ts                  DateTime64(6, 'UTC'),
    request_id          String,                -- mod_unique_id, else conn_id:request_seq
    conn_id             String,
    request_seq         UInt32,
    client_ip           IPv6,
    client_port         UInt16,
    server_ip           IPv6,
    server_port         UInt16,
    duration_us         UInt32,
    method              LowCardinality(String),
    scheme              LowCardinality(String),
    host                LowCardinality(String),
    uri                 String,                -- path and query exactly as sent
    protocol            LowCardinality(String), -- HTTP/1.0, HTTP/1.1, HTTP/2, HTTP/3
    status              UInt16,
    bytes_in            UInt64,
    bytes_out           UInt64,
    header_names        Array(String),         -- wire order and case
    headers             Map(LowCardinality(String), String),  -- lower-cased names of the logged set
    cookie_names        Array(String),
    ja4h                String,
    tls_version         LowCardinality(String),
    tls_cipher          LowCardinality(String),
    sni                 String,
    alpn                LowCardinality(String),
    ja4                 String,
    ja4_r               String,
    ja4_o               String,
    ja3                 String,
    ja4s                String,
    ja4t                String,
    ja4ts               String,
    ja4l_c              String,
    ja4l_s              String,
    ja4x                Array(String),
    client_ttl          UInt8,
    correlation_status  LowCardinality(String), -- matched | no_tls | tls_not_seen | ...
    truncated           Bool
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS ja4_processing.http_logs {{ON_CLUSTER}}
(
    ts                  DateTime64(6, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    request_id          String CODEC(ZSTD(1)),
    conn_id             String CODEC(ZSTD(1)),
    request_seq         UInt32 CODEC(T64, ZSTD(1)),
    client_ip           IPv6 CODEC(ZSTD(1)),
    client_port         UInt16 CODEC(T64, ZSTD(1)),
    server_ip           IPv6 CODEC(ZSTD(1)),
    server_port         UInt16 CODEC(T64, ZSTD(1)),
    duration_us         UInt32 CODEC(T64, ZSTD(1)),
    method              LowCardinality(String),
    scheme              LowCardinality(String),
    host                LowCardinality(String),
    path                String CODEC(ZSTD(1)),
    query               String CODEC(ZSTD(1)),
    protocol            LowCardinality(String),
    http_major          UInt8,                 -- 1, 2 or 3 (from protocol, ALPN or a QUIC JA4)
    status              UInt16 CODEC(T64, ZSTD(1)),
    bytes_in            UInt64 CODEC(T64, ZSTD(1)),
    bytes_out           UInt64 CODEC(T64, ZSTD(1)),
    user_agent          String CODEC(ZSTD(1)),
    accept              String CODEC(ZSTD(1)),
    accept_language     LowCardinality(String),
    accept_encoding     LowCardinality(String),
    referer             String CODEC(ZSTD(1)),
    header_names        Array(LowCardinality(String)),
    headers             Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    cookie_names        Array(String) CODEC(ZSTD(1)),
    ja4h                String CODEC(ZSTD(1)),
    tls_version         LowCardinality(String),
    tls_cipher          LowCardinality(String),
    sni                 String CODEC(ZSTD(1)),
    alpn                LowCardinality(String),
    ja4                 LowCardinality(String),
    ja4_r               String CODEC(ZSTD(3)),
    ja4_o               String CODEC(ZSTD(1)),
    ja3                 String CODEC(ZSTD(1)),
    ja4s                LowCardinality(String),
    ja4t                LowCardinality(String),
    ja4ts               LowCardinality(String),
    ja4l_c              String CODEC(ZSTD(1)),
    ja4l_s              String CODEC(ZSTD(1)),
    ja4x                Array(String) CODEC(ZSTD(1)),
    client_ttl          UInt8,
    correlation_status  LowCardinality(String),
    truncated           Bool,
    -- enrichment (ja4_processing.http_logs_mv)
    asn                 UInt32 CODEC(T64, ZSTD(1)),
    asn_name            LowCardinality(String),
    country             LowCardinality(String),
    asn_label           LowCardinality(String),
    asn_score           Float32,
    bot_ip_name         LowCardinality(String), -- known bot network
    bot_ja4_name        LowCardinality(String), -- known bot/tool/library JA4
    browser_ja4_name    LowCardinality(String), -- JA4 of a real browser
    ja4_application     LowCardinality(String), -- FoxIO JA4+ mapping: application or library
    crawler_rule        LowCardinality(String),
    crawler_action      LowCardinality(String),
    ua_is_browser       UInt8,                 -- the User-Agent claims a browser
    ua_ja4_mismatch     UInt8,                 -- browser UA over a JA4 that no browser reference has
    inserted_at         DateTime DEFAULT now() CODEC(DoubleDelta, ZSTD(1)),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4h ja4h TYPE bloom_filter(0.01) GRANULARITY 2,
    INDEX idx_status status TYPE minmax GRANULARITY 4,
    INDEX idx_host host TYPE set(256) GRANULARITY 4
)
ENGINE = {{ENGINE MergeTree}}
PARTITION BY toYYYYMMDD(ts)
-- Serves: time windows (overview KPIs, timelines, the log explorer: hour
-- prefix), one JA4's timeline and logs (ja4 second: one range per hour);
-- one IP's history goes through idx_client_ip.
ORDER BY (toStartOfHour(ts), ja4, client_ip, ts)
TTL toDateTime(ts) + INTERVAL {{TTL_DAYS http_logs}} DAY
SETTINGS ttl_only_drop_parts = 1,
         -- replayed batches with the same insert_deduplication_token are dropped
         non_replicated_deduplication_window = 1000;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_logs.http_logs_ingest_dist {{ON_CLUSTER}} AS ja4_logs.http_logs_ingest
ENGINE = Distributed({{CLUSTER}}, ja4_logs, http_logs_ingest, cityHash64(client_ip));

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.http_logs_dist {{ON_CLUSTER}} AS ja4_processing.http_logs
ENGINE = Distributed({{CLUSTER}}, ja4_processing, http_logs, cityHash64(client_ip));
