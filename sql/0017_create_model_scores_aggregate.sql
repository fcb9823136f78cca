-- Per score window x model version (issue 8): the model status page's
-- versions and drift. Over a week those scanned every score (10M on the
-- bench: 1.7 s) for counts, a mean and two quantiles; here a week is one row
-- per window start (168 hourly, 2,016 five-minute) and version. Keyed by
-- window_start itself, not its hour, so that the readers keep the exact
-- window predicate of ml_all_scores (a range ending mid-hour counts the same
-- windows). The quantiles are `quantiles` (reservoir sampling) states: merged
-- they give what quantile() over the raw scores gives (exactly, up to 8,192
-- scores per group; sampled, as before, beyond). Readers GROUP BY the key.
CREATE TABLE IF NOT EXISTS ja4_processing.agg_model_scores {{ON_CLUSTER}}
(
    window_start        DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    model_version       LowCardinality(String),
    first_scored_at     SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_scored_at      SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    scores              SimpleAggregateFunction(sum, UInt64),
    anomaly_scores      SimpleAggregateFunction(sum, UInt64),
    score_avg           AggregateFunction(avg, Float32),
    score_quantiles     AggregateFunction(quantiles(0.5, 0.95), Float32)
)
ENGINE = {{ENGINE AggregatingMergeTree}}
PARTITION BY toYYYYMM(window_start)
-- Serves: the versions and the hourly drift of a window (window_start prefix).
ORDER BY (window_start, model_version)
-- as long as the scores it summarizes
TTL window_start + INTERVAL {{TTL_DAYS scores}} DAY;

-- @only cluster
CREATE TABLE IF NOT EXISTS ja4_processing.agg_model_scores_dist {{ON_CLUSTER}} AS ja4_processing.agg_model_scores
ENGINE = Distributed({{CLUSTER}}, ja4_processing, agg_model_scores, cityHash64(window_start, model_version));

-- Backfill every score kept (bounded by the scores' TTL), before the view
-- exists: the view then counts every score inserted after it. Scores are
-- written after their window closes, so no cut on window_start separates
-- the two; migrations run when a service starts, before it writes scores.
INSERT INTO {{READ ja4_processing.agg_model_scores}}
    (window_start, model_version, first_scored_at, last_scored_at, scores, anomaly_scores, score_avg, score_quantiles)
SELECT window_start, model_version, min(scored_at), max(scored_at), count(), countIf(is_anomaly),
       avgState(score), quantilesState(0.5, 0.95)(score)
FROM {{READ ja4_processing.ml_all_scores}}
GROUP BY window_start, model_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS ja4_processing.agg_model_scores_mv {{ON_CLUSTER}}
TO ja4_processing.agg_model_scores
AS
SELECT
    window_start,
    model_version,
    min(scored_at) AS first_scored_at,
    max(scored_at) AS last_scored_at,
    count() AS scores,
    countIf(is_anomaly) AS anomaly_scores,
    avgState(score) AS score_avg,
    quantilesState(0.5, 0.95)(score) AS score_quantiles
FROM ja4_processing.ml_all_scores
GROUP BY window_start, model_version;
