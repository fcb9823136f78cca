-- The detector's output (issue 7): every scored row, and the detections.

CREATE TABLE IF NOT EXISTS ja4_processing.ml_all_scores {{ON_CLUSTER}}
(
    scored_at       DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_start    DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    window          LowCardinality(String),          -- 1h | 5m
    client_ip       IPv6 CODEC(ZSTD(1)),
    ja4             LowCardinality(String),
    host            LowCardinality(String),
    model_version   LowCardinality(String),
    score           Float32 CODEC(ZSTD(1)),           -- ensemble, 0 = human .. 1 = automated
    score_iforest   Float32 CODEC(ZSTD(1)),
    score_autoencoder Float32 CODEC(ZSTD(1)),
    score_gbt       Float32 CODEC(ZSTD(1)),
    threat_level    LowCardinality(String),          -- low | medium | high | critical
    is_anomaly      Bool,
    bot_name        LowCardinality(String),
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_score score TYPE minmax GRANULARITY 1,
    INDEX idx_threat threat_level TYPE set(8) GRANULARITY 1,
    INDEX idx_model model_version TYPE set(16) GRANULARITY 4
)
ENGINE = {{ENGINE MergeTree}}
PARTITION BY toYYYYMMDD(window_start)
-- Serves: the scores of a window (window_start prefix: model status, drift,
-- timelines) and one JA4's scores inside it; per-IP via idx_client_ip,
-- "score above x" via idx_score.
ORDER BY (window_start, ja4, client_ip, host)
TTL window_start + INTERVAL {{TTL_DAYS scores}} DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS ja4_processing.ml_detected_anomalies {{ON_CLUSTER}}
(
    detected_at     DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_start    DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    window          LowCardinality(String),
    client_ip       IPv6 CODEC(ZSTD(1)),
    ja4             LowCardinality(String),
    host            LowCardinality(String),
    model_version   LowCardinality(String),
    score           Float32,
    threat_level    LowCardinality(String),
    voices          Array(LowCardinality(String)),    -- iforest | autoencoder | gbt: which fired
    bot_name        LowCardinality(String),
    campaign_id     String CODEC(ZSTD(1)),
    -- explanation: top features and their contributions (TreeSHAP / path attribution)
    top_features    Array(LowCardinality(String)),
    top_contributions Array(Float32),
    features        Map(LowCardinality(String), Float64) CODEC(ZSTD(1)),
    requests        UInt64,
    asn             UInt32,
    country         LowCardinality(String),
    user_agent      String CODEC(ZSTD(1)),           -- most frequent UA of the window
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_ja4 ja4 TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_campaign campaign_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_score score TYPE minmax GRANULARITY 1,
    INDEX idx_threat threat_level TYPE set(8) GRANULARITY 1
)
ENGINE = {{ENGINE MergeTree}}
PARTITION BY toYYYYMMDD(detected_at)
-- Serves: the detections list and ticker, newest first in a time range
-- (detected_at prefix), filtered by threat level (idx_threat), JA4, IP or
-- campaign (bloom filters).
ORDER BY (toStartOfHour(detected_at), threat_level, detected_at)
TTL toDateTime(detected_at) + INTERVAL {{TTL_DAYS anomalies}} DAY
SETTINGS ttl_only_drop_parts = 1;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.ml_all_scores_dist {{ON_CLUSTER}} AS ja4_processing.ml_all_scores
ENGINE = Distributed({{CLUSTER}}, ja4_processing, ml_all_scores, cityHash64(client_ip));

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.ml_detected_anomalies_dist {{ON_CLUSTER}} AS ja4_processing.ml_detected_anomalies
ENGINE = Distributed({{CLUSTER}}, ja4_processing, ml_detected_anomalies, cityHash64(client_ip));
