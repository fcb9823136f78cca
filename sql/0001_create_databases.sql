-- The two databases of the platform:
--   ja4_logs        raw ingest, as the sensors sent it (short retention)
--   ja4_processing  everything derived: the enriched http_logs, hourly
--                   aggregates, the detector's features and scores, audit.
-- Placeholders ({{...}}) are rendered by src/storage/sql-template.ts; see
-- docs/storage.md for the list.
CREATE DATABASE IF NOT EXISTS ja4_logs {{ON_CLUSTER}};

CREATE DATABASE IF NOT EXISTS ja4_processing {{ON_CLUSTER}};
