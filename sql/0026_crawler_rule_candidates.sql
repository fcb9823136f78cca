-- The enrichment view (0006) picks a request's crawler rule with arrayFirst
-- over every rule, each tested against the request's regex hits and
-- network: the lambda ran rules x rows times, with the rules' tuples and
-- lists copied for every row, and was more than half of the view's CPU
-- (1.6 of 2.5 us per row beyond reading the block: bench/engine-views.bench.js,
-- docs/storage.md). Now the regex hits are intersected first (the rules whose
-- user-agent and path patterns both match, usually none) and only those are
-- tested, in file order (multiMatchAllIndices returns its hits in any
-- order): the same rule, the first match, wins.
--
-- MODIFY QUERY swaps the SELECT atomically: inserts go on meanwhile, none
-- passes through without the view.
ALTER TABLE ja4_processing.http_logs_mv {{ON_CLUSTER}}
MODIFY QUERY
WITH
    (
        SELECT arraySort(r -> r.1, groupArray((position, name, action, remote_addresses, asns, countries)))
        FROM ja4_processing.ref_crawler_rules
    ) AS crawler_rules,
    (
        SELECT arrayMap(r -> if(r.2 = '', '^', r.2), arraySort(r -> r.1, groupArray((position, user_agent_regex))))
        FROM ja4_processing.ref_crawler_rules
    ) AS crawler_ua_patterns,
    (
        SELECT arrayMap(r -> if(r.2 = '', '^', r.2), arraySort(r -> r.1, groupArray((position, path_regex))))
        FROM ja4_processing.ref_crawler_rules
    ) AS crawler_path_patterns,
    -- isIPAddressInRange wants text; IPv4 clients are stored IPv4-mapped
    IPv6NumToString(client_ip) AS ip_v6_text,
    if(startsWith(ip_v6_text, '::ffff:') AND position(ip_v6_text, '.') > 0, substring(ip_v6_text, 8), ip_v6_text) AS ip_text,
    position(uri, '?') AS query_at,
    headers['user-agent'] AS ua,
    if(query_at > 0, substring(uri, 1, query_at - 1), uri) AS uri_path,
    toUInt32(dictGetOrDefault('ja4_processing.dict_ip_asn', 'asn', client_ip, toUInt32(0))) AS asn_number,
    dictGetOrDefault('ja4_processing.dict_ip_asn', 'country_code', client_ip, '') AS country_code,
    dictGetOrDefault('ja4_processing.dict_browser_ja4', 'browser', tuple(ja4), '') AS browser_name,
    dictGetOrDefault('ja4_processing.dict_bot_ja4', 'bot_name', tuple(ja4), '') AS bot_ja4,
    dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'application', ('ja4', ja4), '') AS mapped_app,
    dictGetOrDefault('ja4_processing.dict_ja4plus_mapping', 'library', ('ja4', ja4), '') AS mapped_library,
    -- the UA claims a browser: every major browser UA starts with Mozilla/5.0
    -- and names an engine; curl, python-requests, Go do not
    toUInt8(match(ua, '^Mozilla/5\\.0 \\(.*(AppleWebKit|Gecko|Trident)')) AS browser_ua,
    multiMatchAllIndices(ua, crawler_ua_patterns) AS ua_hits,
    multiMatchAllIndices(uri_path, crawler_path_patterns) AS path_hits,
    -- the rules whose regexes both hit, in file order: for most requests none
    arraySort(arrayFilter(i -> has(path_hits, i), ua_hits)) AS rule_candidates,
    -- the first of them whose network conditions hold; 0 (no rule) if none
    arrayFirst(i ->
            (empty(crawler_rules[i].4) OR arrayExists(c -> isIPAddressInRange(ip_text, c), crawler_rules[i].4))
        AND (empty(crawler_rules[i].5) OR has(crawler_rules[i].5, asn_number))
        AND (empty(crawler_rules[i].6) OR has(crawler_rules[i].6, country_code)),
        rule_candidates) AS rule_i,
    -- element 0 of an array is its type's default: a rule with no name or action
    crawler_rules[rule_i] AS rule
SELECT
    ts, request_id, conn_id, request_seq, client_ip, client_port, server_ip, server_port, duration_us,
    method, scheme, host,
    uri_path AS path,
    if(query_at > 0, substring(uri, query_at + 1), '') AS query,
    protocol,
    toUInt8(multiIf(startsWith(protocol, 'HTTP/3') OR alpn = 'h3' OR startsWith(ja4, 'q'), 3,
                    startsWith(protocol, 'HTTP/2') OR alpn = 'h2', 2,
                    1)) AS http_major,
    status, bytes_in, bytes_out,
    ua AS user_agent,
    headers['accept'] AS accept,
    headers['accept-language'] AS accept_language,
    headers['accept-encoding'] AS accept_encoding,
    headers['referer'] AS referer,
    header_names, headers, cookie_names, ja4h,
    tls_version, tls_cipher, sni, alpn,
    ja4, ja4_r, ja4_o, ja3, ja4s, ja4t, ja4ts, ja4l_c, ja4l_s, ja4x, client_ttl,
    correlation_status, truncated,
    asn_number AS asn,
    dictGetOrDefault('ja4_processing.dict_ip_asn', 'name', client_ip, '') AS asn_name,
    country_code AS country,
    dictGetOrDefault('ja4_processing.dict_asn_reputation', 'label', toUInt64(asn_number), '') AS asn_label,
    dictGetOrDefault('ja4_processing.dict_asn_reputation', 'score', toUInt64(asn_number), toFloat32(0)) AS asn_score,
    dictGetOrDefault('ja4_processing.dict_bot_ip_prefixes', 'bot_name', client_ip, '') AS bot_ip_name,
    bot_ja4 AS bot_ja4_name,
    browser_name AS browser_ja4_name,
    if(mapped_app != '', mapped_app, mapped_library) AS ja4_application,
    rule.2 AS crawler_rule,
    rule.3 AS crawler_action,
    browser_ua AS ua_is_browser,
    toUInt8(browser_ua = 1 AND ja4 != '' AND browser_name = '') AS ua_ja4_mismatch
FROM ja4_logs.http_logs_ingest;
