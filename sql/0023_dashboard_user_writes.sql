-- The dashboard writes through its own connection: its audit trail (every
-- change is audited first, and a change without its audit row is refused),
-- analyst verdicts, dashboard users and API tokens. 0011 made ja4_dashboard
-- readonly = 2, which refuses every INSERT, so on a server no one could log
-- in (503 audit_unavailable). Least privilege now comes from the grants:
-- SELECT and dictGet (ja4_reader) plus INSERT on these four tables only.
-- readonly = 0 also lets it set its own query limits (max_memory_usage).

-- @only server
ALTER USER IF EXISTS ja4_dashboard {{ON_CLUSTER}} SETTINGS readonly = 0;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_processing.audit_logs TO ja4_dashboard;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_processing.analyst_classifications TO ja4_dashboard;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_processing.dashboard_users TO ja4_dashboard;

-- @only server
GRANT {{ON_CLUSTER}} INSERT ON ja4_processing.dashboard_tokens TO ja4_dashboard;
