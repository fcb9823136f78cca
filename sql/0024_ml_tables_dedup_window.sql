-- The detector writes each window's detections, then its scores, with
-- insert_deduplication_token = detector:<window kind>:<start>:<model
-- version>:<table> (src/detector/run/score-windows.ts): a pass that failed
-- between the two inserts of one window does that window again, and its
-- detections must not land twice. A non-replicated MergeTree keeps no block
-- hashes without a window (as the raw tables, 0021); the last 1000 inserts.
-- Replicated tables (a cluster) deduplicate through Keeper whatever this says.
ALTER TABLE ja4_processing.ml_all_scores {{ON_CLUSTER}}
    MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE ja4_processing.ml_detected_anomalies {{ON_CLUSTER}}
    MODIFY SETTING non_replicated_deduplication_window = 1000;
