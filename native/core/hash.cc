#include "hash.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace ja4 {

namespace {
const char kHex[] = "0123456789abcdef";

// OpenSSL 3 looks an algorithm up (locks, property query) every time a
// legacy EVP_sha256()/EVP_md5() handle is used; fetching once and reusing one
// context per thread keeps a JA4 hash at a few hundred nanoseconds.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* md5_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

std::string digest_hex(const EVP_MD* md, std::string_view input, size_t chars) {
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), input.data(), input.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    return std::string(chars < 64 ? chars : 64, '0');
  }
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
  return digest_hex(sha256_md(), input, chars);
}

namespace {
// Two-part SHA-256 (a || b) into out[32], on the per-thread context.
void sha256_two(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t out[32]) {
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned int len = 0;
  EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr);
  EVP_DigestUpdate(ctx.get(), a, alen);
  if (blen) EVP_DigestUpdate(ctx.get(), b, blen);
  EVP_DigestFinal_ex(ctx.get(), out, &len);
}
}  // namespace

void hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len, uint8_t out[32]) {
  // RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), K padded to the
  // 64-byte block (hashed first when longer).
  uint8_t k[64] = {0};
  if (key_len > 64) {
    sha256_two(key, key_len, nullptr, 0, k);
  } else if (key_len) {
    std::memcpy(k, key, key_len);
  }
  uint8_t pad[64];
  for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x36;
  uint8_t inner[32];
  sha256_two(pad, 64, msg, msg_len, inner);
  for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x5c;
  sha256_two(pad, 64, inner, 32, out);
}

void hkdf_sha256_extract(const uint8_t* salt, size_t salt_len, const uint8_t* ikm, size_t ikm_len,
                         uint8_t prk[32]) {
  // RFC 5869 2.2: PRK = HMAC-Hash(salt, IKM)
  hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
}

bool hkdf_sha256_expand(const uint8_t prk[32], const uint8_t* info, size_t info_len, uint8_t* out,
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
    hmac_sha256(prk, 32, block, t_len + info_len + 1, t);
    t_len = 32;
    size_t n = out_len - done < 32 ? out_len - done : 32;
    std::memcpy(out + done, t, n);
    done += n;
  }
  return true;
}

std::string ja4_hash12(std::string_view input) {
  if (input.empty()) return "000000000000";
  return sha256_hex(input, 12);
}

std::string md5_hex(std::string_view input) { return digest_hex(md5_md(), input, 32); }

}  // namespace ja4
