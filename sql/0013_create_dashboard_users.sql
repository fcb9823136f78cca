-- Dashboard accounts (issue 8): local users with scrypt password hashes and
-- the read-only tokens of wall screens. Small tables, one row per name;
-- every change writes a new row (last write wins, read with FINAL), and a
-- removal is a row with deleted = 1, so the history stays in audit_logs and
-- nothing is ever updated in place. Never expire: no TTL.
CREATE TABLE IF NOT EXISTS ja4_processing.dashboard_users {{ON_CLUSTER}}
(
    name            String,
    role            LowCardinality(String),           -- viewer | analyst | admin
    -- scrypt$N$r$p$salt(base64)$key(base64), see src/dashboard/auth/password.ts
    password_hash   String,
    created_at      DateTime64(3, 'UTC'),
    updated_at      DateTime64(3, 'UTC'),
    deleted         UInt8 DEFAULT 0
)
ENGINE = {{ENGINE_GLOBAL ReplacingMergeTree(updated_at)}}
-- Serves: the login lookup by name and the users page (a few rows).
ORDER BY name;

CREATE TABLE IF NOT EXISTS ja4_processing.dashboard_tokens {{ON_CLUSTER}}
(
    -- the first 12 characters of the token: shown in lists, never enough to use it
    token_id        String,
    name            String,
    role            LowCardinality(String),           -- viewer (wall screens are read-only)
    token_sha256    String,                           -- hex; the token itself is printed once
    created_at      DateTime64(3, 'UTC'),
    updated_at      DateTime64(3, 'UTC'),
    revoked         UInt8 DEFAULT 0
)
ENGINE = {{ENGINE_GLOBAL ReplacingMergeTree(updated_at)}}
-- Serves: the token check by hash (a few rows, read whole) and `ja4 user token --list`.
ORDER BY token_id;
