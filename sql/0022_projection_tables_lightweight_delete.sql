-- ml_all_scores (0016) and ml_detected_anomalies (0019) carry projections,
-- and ClickHouse refuses a lightweight DELETE on such a table unless told
-- what to do with them ("DELETE query is not allowed for table ... because
-- it has projections and setting lightweight_mutation_projection_mode is
-- set to THROW"). An operator removing one client's data (an erasure
-- request, a test address scored by mistake) runs
--   DELETE FROM ja4_processing.ml_all_scores WHERE client_ip = toIPv6('...')
-- and gets that error. 'rebuild': the projections of the parts a delete
-- touches are rebuilt, so the IP and campaign lookups they serve stay right.
ALTER TABLE ja4_processing.ml_all_scores {{ON_CLUSTER}}
    MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild';

ALTER TABLE ja4_processing.ml_detected_anomalies {{ON_CLUSTER}}
    MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild';
