-- Users and grants of a server deployment (never applied to the embedded
-- engine, which has no access control). Passwords are given as SHA-256
-- hashes by `ja4 db migrate` from JA4_DB_DASHBOARD_PASSWORD and
-- JA4_DB_WRITER_PASSWORD; nothing secret is in this file or the logs.

-- @only server
CREATE ROLE IF NOT EXISTS ja4_reader {{ON_CLUSTER}};

-- @only server
GRANT {{ON_CLUSTER}} SELECT, dictGet ON ja4_logs.* TO ja4_reader;

-- @only server
GRANT {{ON_CLUSTER}} SELECT, dictGet ON ja4_processing.* TO ja4_reader;

-- @only server
CREATE ROLE IF NOT EXISTS ja4_writer_role {{ON_CLUSTER}};

-- @only server
GRANT {{ON_CLUSTER}} ja4_reader TO ja4_writer_role;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_logs.* TO ja4_writer_role;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_processing.* TO ja4_writer_role;

-- The dashboard: read-only (its mutations go through the writer).
-- @only server
CREATE USER IF NOT EXISTS ja4_dashboard {{ON_CLUSTER}}
    IDENTIFIED WITH sha256_hash BY {{PASSWORD_SHA256 dashboard}}
    DEFAULT DATABASE ja4_processing
    -- readonly = 2: read-only, but may still set its own query settings
    SETTINGS readonly = 2;

-- @only server
GRANT {{ON_CLUSTER}} ja4_reader TO ja4_dashboard;

-- The pipeline, the detector and the dashboard's analyst actions.
-- @only server
CREATE USER IF NOT EXISTS ja4_writer {{ON_CLUSTER}}
    IDENTIFIED WITH sha256_hash BY {{PASSWORD_SHA256 writer}}
    DEFAULT DATABASE ja4_processing;

-- @only server
GRANT {{ON_CLUSTER}} ja4_writer_role TO ja4_writer;
