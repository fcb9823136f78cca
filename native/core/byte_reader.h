// Bounds-checked big-endian reader over a byte span.
//
// Every parser in the core reads through this type so that a short or odd
// input can never read past its buffer: each accessor checks the remaining
// length first and, on a short read, marks the reader failed and returns 0.
// Callers test ok() at the points where a failure changes what they do,
// instead of after every read (Zeek's "check the length before every read",
// made impossible to forget).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ja4 {

class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? static_cast<size_t>(end_ - p_) : 0; }
  bool empty() const { return remaining() == 0; }
  const uint8_t* data() const { return p_; }

  uint8_t u8() {
    if (!need(1)) return 0;
    return *p_++;
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return v;
  }
  uint32_t u24() {
    if (!need(3)) return 0;
    uint32_t v = (uint32_t(p_[0]) << 16) | (uint32_t(p_[1]) << 8) | p_[2];
    p_ += 3;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = (uint32_t(p_[0]) << 24) | (uint32_t(p_[1]) << 16) |
                 (uint32_t(p_[2]) << 8) | p_[3];
    p_ += 4;
    return v;
  }
  // QUIC variable-length integer (RFC 9000 section 16): the two high bits of
  // the first byte give the length, 1, 2, 4 or 8 bytes.
  uint64_t varint() {
    if (!need(1)) return 0;
    size_t len = size_t(1) << (p_[0] >> 6);
    if (!need(len)) return 0;
    uint64_t v = p_[0] & 0x3f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | p_[i];
    p_ += len;
    return v;
  }
  void skip(size_t n) {
    if (need(n)) p_ += n;
  }
  // A sub-reader over the next n bytes; the parent moves past them.
  ByteReader sub(size_t n) {
    if (!need(n)) return failed();
    ByteReader r(p_, n);
    p_ += n;
    return r;
  }
  // The next n bytes as a view; empty and failed when short.
  std::string_view bytes(size_t n) {
    if (!need(n)) return {};
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }

 private:
  bool need(size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  static ByteReader failed() {
    ByteReader r;
    r.ok_ = false;
    return r;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool ok_ = true;
};

}  // namespace ja4
