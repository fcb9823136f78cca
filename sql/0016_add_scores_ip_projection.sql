-- ml_all_scores by client IP (issue 8): the IP page's scores. The table is
-- ordered by (window_start, ja4, client_ip, host) and one client's scores
-- are spread over every granule of the window, so idx_client_ip skips
-- nothing: a week's scores of one IP read the whole week (1.1 s on 10M
-- scores, the bench). The projection keeps a copy ordered by the IP, which
-- the engine picks for `client_ip = X AND window_start ...` (45 ms); the
-- window and JA4 readers keep the table's own order. The price: scores are
-- stored, and written, twice.
ALTER TABLE ja4_processing.ml_all_scores {{ON_CLUSTER}}
    ADD PROJECTION IF NOT EXISTS by_client_ip (SELECT * ORDER BY client_ip, window_start);

-- The parts written before this migration get it too (a mutation bounded by
-- the table's size, the scores' TTL); synchronous, so that the migration is
-- done when it says so.
ALTER TABLE ja4_processing.ml_all_scores {{ON_CLUSTER}}
    MATERIALIZE PROJECTION by_client_ip
SETTINGS mutations_sync = 1;
