// Writing little-endian values and ClickHouse Strings ("the length in bytes
// as an unsigned LEB128, then the bytes") at a cursor into room the caller
// sized beforehand: no capacity check per value (the mod_reqin_log cells
// and the Native blocks built from them, where a value is a few bytes).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ja4 {

struct ByteCursor {
  char* p;

  void bytes(std::string_view s) {
    // mostly a few bytes: a loop beats a call to memcpy (and an empty
    // view's data() may be null, which memcpy must not get)
    if (s.size() <= 16) {
      for (char c : s) *p++ = c;
    } else {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    }
  }
  void byte(char c) { *p++ = c; }
  void varint(uint64_t n) {
    while (n >= 0x80) {
      *p++ = static_cast<char>((n & 0x7f) | 0x80);
      n >>= 7;
    }
    *p++ = static_cast<char>(n);
  }
  void string(std::string_view s) {
    varint(s.size());
    bytes(s);
  }
  void u16(uint32_t v) {
    p[0] = static_cast<char>(v);
    p[1] = static_cast<char>(v >> 8);
    p += 2;
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
    p += 4;
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
    p += 8;
  }
};

}  // namespace ja4
