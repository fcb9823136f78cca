-- The raw tables take the correlator's batches with the same deduplication
-- tokens as http_logs (src/pipeline/sinks.ts: `<batch token>:<table>`), but
-- were created without a deduplication window: a non-replicated MergeTree
-- keeps no block hashes by default, so a spooled batch replayed after an
-- insert that did land (a timeout, a kill -9 between insert and
-- acknowledgement) was stored twice there. The window of http_logs and the
-- aggregates (0005, 0007): the last 1000 inserts. Replicated tables (a
-- cluster) deduplicate through Keeper whatever this says.
ALTER TABLE ja4_logs.http_requests {{ON_CLUSTER}}
    MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE ja4_logs.tls_events {{ON_CLUSTER}}
    MODIFY SETTING non_replicated_deduplication_window = 1000;
