#include "hash.h"

// The low-level SHA256_*/MD5_* calls are deprecated in OpenSSL 3 in favour of
// EVP, but they run the same assembly (SHA-NI where the CPU has it) without
// EVP's per-call provider dispatch, context reset and cleanse: on the pcap
// benchmark EVP's bookkeeping cost more than the compression of the one
// 64-byte block a JA4 list or an HKDF step hashes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <cstring>

namespace ja4 {

namespace {
const char kHex[] = "0123456789abcdef";

void hex_into(const uint8_t* data, size_t chars, char* out) {
  for (size_t i = 0; i < chars; ++i) {
    uint8_t b = data[i >> 1];
    out[i] = kHex[(i & 1) ? (b & 0xf) : (b >> 4)];
  }
}

void sha256_raw(const void* data, size_t len, uint8_t out[32]) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data, len);
  SHA256_Final(out, &c);
}
}  // namespace

std::string to_hex(const uint8_t* data, size_t len) {
  std::string s(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    s[2 * i] = kHex[data[i] >> 4];
    s[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return s;
}

void append_hex4(std::string& out, uint16_t v) {
  const char digits[4] = {kHex[(v >> 12) & 0xf], kHex[(v >> 8) & 0xf], kHex[(v >> 4) & 0xf], kHex[v & 0xf]};
  out.append(digits, 4);
}

std::string sha256_hex(std::string_view input, size_t chars) {
  if (chars > 64) chars = 64;
  uint8_t d[32];
  sha256_raw(input.data(), input.size(), d);
  std::string hex(chars, '0');
  hex_into(d, chars, hex.data());
  return hex;
}

namespace {
// Two-part SHA-256 (a || b) into out[32].
void sha256_two(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t out[32]) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, a, alen);
  if (blen) SHA256_Update(&c, b, blen);
  SHA256_Final(out, &c);
}
}  // namespace

static_assert(sizeof(SHA256_CTX) <= sizeof(HmacSha256Key::inner), "SHA256_CTX fits HmacSha256Key");

void hmac_sha256_key(HmacSha256Key& hk, const uint8_t* key, size_t key_len) {
  // RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), K padded to the
  // 64-byte block (hashed first when longer); the two pad blocks are hashed
  // here once and their states kept.
  uint8_t k[64] = {0};
  if (key_len > 64) {
    sha256_two(key, key_len, nullptr, 0, k);
  } else if (key_len) {
    std::memcpy(k, key, key_len);
  }
  uint8_t pad[64];
  SHA256_CTX c;
  for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x36;
  SHA256_Init(&c);
  SHA256_Update(&c, pad, 64);
  std::memcpy(hk.inner, &c, sizeof c);
  for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x5c;
  SHA256_Init(&c);
  SHA256_Update(&c, pad, 64);
  std::memcpy(hk.outer, &c, sizeof c);
}

void hmac_sha256(const HmacSha256Key& hk, const uint8_t* msg, size_t msg_len, uint8_t out[32]) {
  // RFC 2104, resumed after the pad blocks: H(opad-state || H(ipad-state || text)).
  SHA256_CTX c;
  uint8_t inner[32];
  std::memcpy(&c, hk.inner, sizeof c);
  if (msg_len) SHA256_Update(&c, msg, msg_len);
  SHA256_Final(inner, &c);
  std::memcpy(&c, hk.outer, sizeof c);
  SHA256_Update(&c, inner, 32);
  SHA256_Final(out, &c);
}

void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len, uint8_t out[32]) {
  // RFC 2104 with a one-off key: the key's pad blocks, then the message.
  HmacSha256Key hk;
  hmac_sha256_key(hk, key, key_len);
  hmac_sha256(hk, msg, msg_len, out);
}

bool hkdf_sha256_expand(const HmacSha256Key& prk, const uint8_t* info, size_t info_len, uint8_t* out,
                        size_t out_len) {
  // RFC 5869 2.3: T(i) = HMAC-Hash(PRK, T(i-1) | info | i), L <= 255*HashLen
  if (out_len > 255 * 32 || info_len > 512) return false;
  uint8_t block[32 + 512 + 1];
  uint8_t t[32];
  size_t t_len = 0, done = 0;
  for (uint8_t i = 1; done < out_len; ++i) {
    std::memcpy(block, t, t_len);
    std::memcpy(block + t_len, info, info_len);
    block[t_len + info_len] = i;
    hmac_sha256(prk, block, t_len + info_len + 1, t);
    t_len = 32;
    size_t n = out_len - done < 32 ? out_len - done : 32;
    std::memcpy(out + done, t, n);
    done += n;
  }
  return true;
}

void hkdf_sha256_extract(const uint8_t* salt, size_t salt_len, const uint8_t* ikm, size_t ikm_len,
                         uint8_t prk[32]) {
  // RFC 5869 2.2: PRK = HMAC-Hash(salt, IKM)
  hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
}

bool hkdf_sha256_expand(const uint8_t prk[32], const uint8_t* info, size_t info_len, uint8_t* out,
                        size_t out_len) {
  HmacSha256Key key;
  hmac_sha256_key(key, prk, 32);
  return hkdf_sha256_expand(key, info, info_len, out, out_len);
}

std::string ja4_hash12(std::string_view input) {
  if (input.empty()) return "000000000000";
  uint8_t d[32];
  sha256_raw(input.data(), input.size(), d);
  std::string hex(12, '0');
  hex_into(d, 12, hex.data());
  return hex;
}

std::string md5_hex(std::string_view input) {
  uint8_t d[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(input.data()), input.size(), d);
  std::string hex(32, '0');
  hex_into(d, 32, hex.data());
  return hex;
}

}  // namespace ja4
