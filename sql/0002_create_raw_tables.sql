-- Raw ingest: the two halves of a request before correlation, kept briefly
-- for debugging and replay. The correlator (ja4 run) writes them as received.

-- HTTP records from mod_reqin_log (one per request, logged at log_transaction).
CREATE TABLE IF NOT EXISTS ja4_logs.http_requests {{ON_CLUSTER}}
(
    ts            DateTime64(6, 'UTC') CODEC(DoubleDelta, ZSTD(1)),  -- request start
    duration_us   UInt32 CODEC(T64, ZSTD(1)),
    client_ip     IPv6 CODEC(ZSTD(1)),                  -- c->client_addr, never a header
    client_port   UInt16 CODEC(T64, ZSTD(1)),
    local_ip      IPv6 CODEC(ZSTD(1)),
    local_port    UInt16 CODEC(T64, ZSTD(1)),
    conn_id       String CODEC(ZSTD(1)),
    request_seq   UInt32 CODEC(T64, ZSTD(1)),           -- n-th request on the keep-alive connection
    unique_id     String CODEC(ZSTD(1)),                -- mod_unique_id when loaded
    method        LowCardinality(String),
    scheme        LowCardinality(String),
    host          LowCardinality(String),
    uri           String CODEC(ZSTD(1)),                -- unparsed_uri: path and query as sent
    protocol      LowCardinality(String),
    status        UInt16 CODEC(T64, ZSTD(1)),
    bytes_in      UInt64 CODEC(T64, ZSTD(1)),
    bytes_out     UInt64 CODEC(T64, ZSTD(1)),
    header_names  Array(String) CODEC(ZSTD(1)),         -- wire order and case (h2: pseudo-headers first)
    headers       Map(LowCardinality(String), String) CODEC(ZSTD(1)),  -- lower-cased names of the logged set
    cookie_names  Array(String) CODEC(ZSTD(1)),         -- names only, never values
    tls_protocol  LowCardinality(String),
    tls_cipher    LowCardinality(String),
    tls_sni       String CODEC(ZSTD(1)),
    truncated     Bool,
    received_at   DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1)),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ENGINE MergeTree}}
PARTITION BY toYYYYMMDD(ts)
-- Serves: replaying a time window into the correlator (hour prefix) and
-- "what did this client send in that hour" while debugging a correlation.
ORDER BY (toStartOfHour(ts), client_ip, client_port, ts)
TTL toDateTime(ts) + INTERVAL {{TTL_DAYS raw}} DAY
SETTINGS ttl_only_drop_parts = 1;

-- TLS events from the capture (one per TCP connection or QUIC flow once the
-- client handshake is seen).
CREATE TABLE IF NOT EXISTS ja4_logs.tls_events {{ON_CLUSTER}}
(
    ts            DateTime64(6, 'UTC') CODEC(DoubleDelta, ZSTD(1)),  -- first packet of the flow
    last_ts       DateTime64(6, 'UTC') CODEC(ZSTD(1)),
    transport     LowCardinality(String),                -- tcp | udp (QUIC)
    client_ip     IPv6 CODEC(ZSTD(1)),
    client_port   UInt16 CODEC(T64, ZSTD(1)),
    server_ip     IPv6 CODEC(ZSTD(1)),
    server_port   UInt16 CODEC(T64, ZSTD(1)),
    sni           String CODEC(ZSTD(1)),
    alpn          LowCardinality(String),
    tls_version   LowCardinality(String),
    ja4           LowCardinality(String),
    ja4_r         String CODEC(ZSTD(3)),
    ja4_o         String CODEC(ZSTD(1)),
    ja3           String CODEC(ZSTD(1)),
    ja4s          LowCardinality(String),
    ja4t          LowCardinality(String),
    ja4ts         LowCardinality(String),
    ja4l_c        String CODEC(ZSTD(1)),
    ja4l_s        String CODEC(ZSTD(1)),
    ja4x          Array(String) CODEC(ZSTD(1)),
    client_ttl    UInt8,
    closed        Bool,
    received_at   DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1)),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ENGINE MergeTree}}
PARTITION BY toYYYYMMDD(ts)
-- Serves: finding the connection of a late HTTP record (client ip+port
-- inside an hour) and replaying a window.
ORDER BY (toStartOfHour(ts), client_ip, client_port, ts)
TTL toDateTime(ts) + INTERVAL {{TTL_DAYS raw}} DAY
SETTINGS ttl_only_drop_parts = 1;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_logs.http_requests_dist {{ON_CLUSTER}} AS ja4_logs.http_requests
ENGINE = Distributed({{CLUSTER}}, ja4_logs, http_requests, cityHash64(client_ip));

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_logs.tls_events_dist {{ON_CLUSTER}} AS ja4_logs.tls_events
ENGINE = Distributed({{CLUSTER}}, ja4_logs, tls_events, cityHash64(client_ip));
