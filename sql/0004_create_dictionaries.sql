-- Dictionaries over the reference tables. LIFETIME lets a server pick up a
-- load made by another process; `ja4 data load` also reloads them at once.
-- IP_TRIE answers longest-prefix matches for IPv4 (mapped) and IPv6 keys.

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_ip_asn {{ON_CLUSTER}}
(
    network       String,
    asn           UInt32 DEFAULT 0,
    country_code  String DEFAULT '',
    name          String DEFAULT '',
    org           String DEFAULT ''
)
PRIMARY KEY network
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_ip_asn'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(IP_TRIE(ACCESS_TO_KEY_FROM_ATTRIBUTES 1));

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_bot_ip_prefixes {{ON_CLUSTER}}
(
    prefix        String,
    bot_name      String DEFAULT ''
)
PRIMARY KEY prefix
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_bot_ip_prefixes'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(IP_TRIE);

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_bot_ja4 {{ON_CLUSTER}}
(
    ja4           String,
    bot_name      String DEFAULT '',
    category      String DEFAULT ''
)
PRIMARY KEY ja4
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_bot_ja4'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(COMPLEX_KEY_HASHED);

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_browser_ja4 {{ON_CLUSTER}}
(
    ja4           String,
    browser       String DEFAULT ''
)
PRIMARY KEY ja4
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_browser_ja4'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(COMPLEX_KEY_HASHED);

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_asn_reputation {{ON_CLUSTER}}
(
    asn           UInt64,
    label         String DEFAULT '',
    score         Float32 DEFAULT 0
)
PRIMARY KEY asn
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_asn_reputation'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(HASHED);

CREATE DICTIONARY IF NOT EXISTS ja4_processing.dict_ja4plus_mapping {{ON_CLUSTER}}
(
    fingerprint_type  String,
    fingerprint       String,
    application       String DEFAULT '',
    library           String DEFAULT '',
    device            String DEFAULT '',
    os                String DEFAULT ''
)
PRIMARY KEY fingerprint_type, fingerprint
SOURCE(CLICKHOUSE(DB 'ja4_processing' TABLE 'ref_ja4plus_mapping'))
LIFETIME(MIN 300 MAX 600)
LAYOUT(COMPLEX_KEY_HASHED);
