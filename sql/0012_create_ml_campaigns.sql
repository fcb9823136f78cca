-- Campaigns (issue 7): groups of anomalous clients that HDBSCAN put in one
-- cluster of feature space in a scored window. ml_detected_anomalies.campaign_id
-- points here. A campaign seen again in a later window (at least half of
-- its members in a new cluster) keeps its id; the new row replaces the old
-- one (ReplacingMergeTree on updated_at), with the members, JA4s and hosts
-- merged and the time span widened, so `FINAL` gives the campaign's whole life.
CREATE TABLE IF NOT EXISTS ja4_processing.ml_campaigns {{ON_CLUSTER}}
(
    campaign_id     String,
    updated_at      DateTime64(3, 'UTC'),
    first_seen      DateTime('UTC'),                -- start of the first window it was seen in
    last_seen       DateTime('UTC'),                -- end of the last window it was seen in
    window          LowCardinality(String),         -- 1h | 5m: the windows it was found in
    model_version   LowCardinality(String),
    members         Array(String) CODEC(ZSTD(1)),   -- client IPs, sorted
    member_count    UInt32,
    ja4s            Array(String) CODEC(ZSTD(1)),
    hosts           Array(String) CODEC(ZSTD(1)),
    detections      UInt64,                         -- detections attached, all windows
    max_score       Float32,
    mean_score      Float32,
    threat_level    LowCardinality(String),         -- the highest of its detections
    top_features    Array(LowCardinality(String))   -- most frequent top features of its members
)
ENGINE = {{ENGINE_GLOBAL ReplacingMergeTree(updated_at)}}
-- Serves: one campaign by id (the detections page links here) and the
-- campaigns list of a time range (read with FINAL, filtered on last_seen).
ORDER BY campaign_id
TTL last_seen + INTERVAL {{TTL_DAYS anomalies}} DAY;
