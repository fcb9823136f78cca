-- Reference data behind the dictionaries. `ja4 data load DIR` validates the
-- CSV files in TypeScript and replaces the content of these tables, then
-- reloads the dictionaries. The dictionaries read these tables rather than
-- the CSV files themselves so that the same schema works embedded, on a
-- server (which cannot see the loader's files) and on a cluster.
-- {{ENGINE_GLOBAL ...}}: on a cluster every node keeps a full copy (one
-- replication path for the whole cluster, not one per shard), so that every
-- shard's materialized views enrich with the same data.
-- A loaded snapshot expires after the `reference` retention (10 years by
-- default) unless a later load replaces it.

-- iplocate.io "ip-to-asn" CSV: network,asn,country_code,name,org,domain
CREATE TABLE IF NOT EXISTS ja4_processing.ref_ip_asn {{ON_CLUSTER}}
(
    network       String,
    asn           UInt32,
    country_code  LowCardinality(String),
    name          String,
    org           String,
    domain        String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the full scan of the dictionary load; nothing else reads it.
ORDER BY network
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- Networks of declared crawlers and bots (Googlebot, Bingbot, ...).
CREATE TABLE IF NOT EXISTS ja4_processing.ref_bot_ip_prefixes {{ON_CLUSTER}}
(
    prefix        String,
    bot_name      String,
    source        String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the dictionary load.
ORDER BY prefix
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- JA4 fingerprints of known bots, tools and libraries.
CREATE TABLE IF NOT EXISTS ja4_processing.ref_bot_ja4 {{ON_CLUSTER}}
(
    ja4           String,
    bot_name      String,
    category      LowCardinality(String),   -- library | scanner | crawler | malware | tool
    notes         String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the dictionary load.
ORDER BY ja4
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- JA4 fingerprints of real browsers (the UA/JA4 consistency check).
CREATE TABLE IF NOT EXISTS ja4_processing.ref_browser_ja4 {{ON_CLUSTER}}
(
    ja4           String,
    browser       String,                   -- family: Chrome, Firefox, Safari, ...
    notes         String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the dictionary load.
ORDER BY ja4
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- Reputation labels per ASN (hosting, residential, vpn, abusive, ...).
CREATE TABLE IF NOT EXISTS ja4_processing.ref_asn_reputation {{ON_CLUSTER}}
(
    asn           UInt32,
    label         LowCardinality(String),
    score         Float32,                  -- 0 = benign .. 1 = abusive
    notes         String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the dictionary load.
ORDER BY asn
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- FoxIO's JA4+ application mapping, one row per (fingerprint type, value);
-- the loader merges duplicate fingerprints' labels.
CREATE TABLE IF NOT EXISTS ja4_processing.ref_ja4plus_mapping {{ON_CLUSTER}}
(
    fingerprint_type  LowCardinality(String),   -- ja4 | ja4s | ja4h | ja4x | ja4t | ja4tscan
    fingerprint       String,
    application       String,
    library           String,
    device            String,
    os                String,
    notes             String,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the dictionary load.
ORDER BY (fingerprint_type, fingerprint)
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;

-- Crawler rules in the style of Anubis bot policies: every non-empty
-- condition must hold; the first rule by position wins.
CREATE TABLE IF NOT EXISTS ja4_processing.ref_crawler_rules {{ON_CLUSTER}}
(
    position          UInt32,
    name              String,
    action            LowCardinality(String),   -- ALLOW | DENY | CHALLENGE | WEIGH
    user_agent_regex  String,                   -- RE2, empty = any
    path_regex        String,                   -- RE2, empty = any
    remote_addresses  Array(String),            -- CIDRs, empty = any
    asns              Array(UInt32),            -- empty = any
    countries         Array(String),            -- ISO 3166-1 alpha-2, empty = any
    weight            Int32,
    loaded_at     DateTime DEFAULT now()   -- when `ja4 data load` wrote the row
)
ENGINE = {{ENGINE_GLOBAL MergeTree}}
-- Serves: the per-insert rule scan of the http_logs materialized view, in order.
ORDER BY position
TTL loaded_at + INTERVAL {{TTL_DAYS reference}} DAY;
