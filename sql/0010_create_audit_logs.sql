-- Analyst actions (issue 8): who did what, when, with the state before and
-- after. Kept long; never updated.
CREATE TABLE IF NOT EXISTS ja4_processing.audit_logs {{ON_CLUSTER}}
(
    ts              DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    actor           LowCardinality(String),           -- user name, or token:<name>
    role            LowCardinality(String),           -- viewer | analyst | admin
    action          LowCardinality(String),           -- classify | whitelist | user.add | login | ...
    subject_type    LowCardinality(String),           -- ip | ja4 | campaign | user | ...
    subject         String CODEC(ZSTD(1)),
    before          String CODEC(ZSTD(3)),            -- JSON
    after           String CODEC(ZSTD(3)),            -- JSON
    note            String CODEC(ZSTD(3)),
    client_ip       IPv6 CODEC(ZSTD(1)),
    request_id      String CODEC(ZSTD(1)),
    INDEX idx_subject subject TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
PARTITION BY toYYYYMM(ts)
-- Serves: the audit trail page, newest first for a period, filtered by
-- actor; per subject via idx_subject.
ORDER BY (toStartOfDay(ts), actor, ts)
TTL toDateTime(ts) + INTERVAL {{TTL_DAYS audit}} DAY;

-- The analysts' current verdict per subject (last write wins), read by the
-- detector's supervised voice and the dashboard.
CREATE TABLE IF NOT EXISTS ja4_processing.analyst_classifications {{ON_CLUSTER}}
(
    subject_type    LowCardinality(String),           -- ip | ja4 | campaign
    subject         String,
    label           LowCardinality(String),           -- bot | human | whitelisted
    note            String CODEC(ZSTD(3)),
    actor           LowCardinality(String),
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = {{ENGINE_GLOBAL ReplacingMergeTree(updated_at)}}
-- Serves: "the verdict for this IP/JA4" (key lookup; read with FINAL).
ORDER BY (subject_type, subject)
TTL toDateTime(updated_at) + INTERVAL {{TTL_DAYS classifications}} DAY;
