// IP address text as the correlator's JavaScript reads it (node:net isIP,
// then normalizeIp in src/correlator/http-record.ts), for the native
// readers of mod_reqin_log records and TLS events: the 16 bytes of an
// IPv6 column (IPv4 mapped) and the join key's spelling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ja4::json {

// A dotted quad as node:net isIPv4 takes it: four decimal numbers 0-255
// without leading zeros (its pattern: 25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d).
bool parse_ipv4(std::string_view t, uint8_t out[4]);

// An IP as node:net isIP takes it, as 16 bytes of an IPv6 column (IPv4
// mapped), and the join key's spelling (normalizeIp: "::ffff:", any case, and a dotted
// quad -> the quad, anything else lowercased). A zone ("%eth0") is refused,
// unless `trusted` (a line the JavaScript reader re-wrote): the zone is then
// dropped, as the column does.
bool parse_ip(std::string_view text, uint8_t out[16], std::string& key, bool trusted);

}  // namespace ja4::json
