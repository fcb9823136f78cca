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
// HMAC-SHA256 (RFC 2104) of msg under key; out receives 32 bytes. Built on
// the cached SHA-256 so that per-flow key derivation (QUIC) costs a few
// digests, not an OpenSSL KDF object setup.
void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len, uint8_t out[32]);
// An HMAC-SHA256 key with its two pad blocks already hashed (the SHA-256
// states after K^ipad and K^opad): each MAC under it then costs two
// compressions fewer. For keys used several times (HKDF-Expand of one
// secret into key, IV and header-protection key; a constant salt).
struct HmacSha256Key {
  alignas(8) unsigned char inner[112];
  alignas(8) unsigned char outer[112];
};
void hmac_sha256_key(HmacSha256Key& k, const uint8_t* key, size_t key_len);
void hmac_sha256(const HmacSha256Key& k, const uint8_t* msg, size_t msg_len, uint8_t out[32]);
// HKDF-Expand (RFC 5869 2.3) with a prepared PRK.
bool hkdf_sha256_expand(const HmacSha256Key& prk, const uint8_t* info, size_t info_len, uint8_t* out,
                        size_t out_len);
// HKDF with SHA-256 (RFC 5869): Extract, and Expand up to 255*32 bytes.
void hkdf_sha256_extract(const uint8_t* salt, size_t salt_len, const uint8_t* ikm, size_t ikm_len,
                         uint8_t prk[32]);
bool hkdf_sha256_expand(const uint8_t prk[32], const uint8_t* info, size_t info_len, uint8_t* out,
                        size_t out_len);
// Lowercase hex of raw bytes.
std::string to_hex(const uint8_t* data, size_t len);
// Four lowercase hex digits of a 16-bit value, as JA4 lists print them.
void append_hex4(std::string& out, uint16_t v);

}  // namespace ja4
