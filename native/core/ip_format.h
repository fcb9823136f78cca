// IP addresses as text, for records: the same strings inet_ntop writes,
// without its generic formatting (an sprintf per IPv6 group), which cost
// more than the rest of a record's endpoint fields together.
#pragma once

#include <cstdint>
#include <string>

namespace ja4 {

// Dotted quad of 4 bytes.
std::string format_ipv4(const uint8_t a[4]);
// glibc inet_ntop(AF_INET6) exactly: RFC 5952 lowercase groups without
// leading zeros, the longest run of two or more zero groups (the first on a
// tie) as "::", and ::a.b.c.d / ::ffff:a.b.c.d for IPv4-compatible and
// IPv4-mapped addresses.
std::string format_ipv6(const uint8_t a[16]);

}  // namespace ja4
