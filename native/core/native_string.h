// Reading what byte_cursor.h writes: ClickHouse's unsigned LEB128 and its
// String ("the length in bytes as an unsigned LEB128, then the bytes"),
// bounds-checked, for the readers of our own Native bytes (a connection's
// TLS columns in request_blocks.cc, the blocks native_block_merge.cc joins).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ja4 {

// The LEB128 at b[at] into `v`, at most `max_bytes` long; `at` moves past
// it. False when it runs past `n` or is longer.
inline bool read_leb128(const uint8_t* b, size_t n, size_t& at, uint64_t& v, int max_bytes) {
  v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (at >= n) return false;
    uint8_t c = b[at++];
    v |= static_cast<uint64_t>(c & 0x7f) << (7 * i);
    if (c < 0x80) return true;
  }
  return false;
}

// The end of the String at b[at], or 0 when it runs past `n` (its length at
// most `max_len_bytes` LEB128 bytes).
inline size_t string_end(const uint8_t* b, size_t n, size_t at, int max_len_bytes) {
  // one-byte lengths (under 128) are nearly all of ours
  if (at < n && b[at] < 0x80) {
    size_t end = at + 1 + b[at];
    return end <= n ? end : 0;
  }
  uint64_t len;
  if (!read_leb128(b, n, at, len, max_len_bytes) || len > n - at) return 0;
  return at + static_cast<size_t>(len);
}

}  // namespace ja4
