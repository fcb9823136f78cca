-- Every insert of the correlator's batches writes a new part into http_logs
-- (and, when on, into the raw tables). Past min_bytes_for_wide_part (10 MiB
-- by default) a part is Wide: a data file and a marks file per column and
-- skip index, ~100 files for http_logs, where a Compact part has a handful.
-- Creating files is kernel time: on the 2-core development VM a 40k-row
-- insert (the pipeline's) spent 5-11 us of system CPU per row with Wide
-- http_logs parts and 1.5-4 with Compact ones (bench/engine-views.bench.js
-- and docs/storage.md). So insert parts stay Compact up to 256 MiB
-- (~250k rows); the background merges that join them write Wide parts once
-- the result is past it, so what queries read, minutes later, is Wide as
-- before.
ALTER TABLE ja4_processing.http_logs {{ON_CLUSTER}}
    MODIFY SETTING min_bytes_for_wide_part = 268435456;

ALTER TABLE ja4_logs.http_requests {{ON_CLUSTER}}
    MODIFY SETTING min_bytes_for_wide_part = 268435456;

ALTER TABLE ja4_logs.tls_events {{ON_CLUSTER}}
    MODIFY SETTING min_bytes_for_wide_part = 268435456;
