// Digests used by the fingerprints, on OpenSSL's libcrypto.
//
// JA4 family: "truncated SHA256 hash" = the first 12 hex characters of the
// lowercase SHA-256 of the string. JA3: the lowercase MD5 hex of the string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ja4 {

// Lowercase hex of SHA-256(input), truncated to `chars` characters.
std::string sha256_hex(std::string_view input, size_t chars = 64);
// The JA4 hash part: first 12 hex chars of SHA-256, or "000000000000" when
// the input list is empty (spec: "if there are no ciphers ... the hash is
// 000000000000"; an empty SHA-256 would be e3b0c44298fc).
std::string ja4_hash12(std::string_view input);
// Lowercase hex of MD5(input) (JA3, JA3S, HASSH).
std::string md5_hex(std::string_view input);
// Lowercase hex of raw bytes.
std::string to_hex(const uint8_t* data, size_t len);
// Four lowercase hex digits of a 16-bit value, as JA4 lists print them.
void append_hex4(std::string& out, uint16_t v);

}  // namespace ja4
