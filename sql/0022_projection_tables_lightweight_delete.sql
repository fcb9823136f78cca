-- ml_all_scores (0016) and ml_detected_anomalies (0019) carry projections,
-- and ClickHouse refuses a lightweight DELETE on such a table unless told
-- what to do with them ("DELETE query is not allowed for table ... because
-- it has projections and setting lightweight_mutation_projection_mode is
-- set to THROW"). An operator removing one client's data (an erasure
-- request, a test address scored by mistake) runs
--   DELETE FROM ja4_processing.ml_all_scores WHERE client_ip = toIPv6('...')
-- and got that error.
--
-- 'drop', not 'rebuild': the parts a delete touches lose their projection
-- and are read from the table itself (slower, right). 'rebuild' left the
-- deleted rows in the projection: a query read in the projection's order
-- (ORDER BY client_ip, window_start) still returned them, in the embedded
-- engine (26.7) as in ClickHouse issue 111791 (26.8); the test in
-- test/storage-pipeline.test.ts reads that way.
ALTER TABLE ja4_processing.ml_all_scores {{ON_CLUSTER}}
    MODIFY SETTING lightweight_mutation_projection_mode = 'drop';

ALTER TABLE ja4_processing.ml_detected_anomalies {{ON_CLUSTER}}
    MODIFY SETTING lightweight_mutation_projection_mode = 'drop';
