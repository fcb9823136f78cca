#include "hash.h"

#include <openssl/evp.h>

namespace ja4 {

namespace {
const char kHex[] = "0123456789abcdef";

std::string digest_hex(const EVP_MD* md, std::string_view input, size_t chars) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), out, &len, md, nullptr);
  std::string hex = to_hex(out, len);
  if (chars < hex.size()) hex.resize(chars);
  return hex;
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
  out.push_back(kHex[(v >> 12) & 0xf]);
  out.push_back(kHex[(v >> 8) & 0xf]);
  out.push_back(kHex[(v >> 4) & 0xf]);
  out.push_back(kHex[v & 0xf]);
}

std::string sha256_hex(std::string_view input, size_t chars) {
  return digest_hex(EVP_sha256(), input, chars);
}

std::string ja4_hash12(std::string_view input) {
  if (input.empty()) return "000000000000";
  return sha256_hex(input, 12);
}

std::string md5_hex(std::string_view input) { return digest_hex(EVP_md5(), input, 32); }

}  // namespace ja4
