#include "json_writer.h"

#include <cstring>

namespace ja4 {

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629 4).
size_t utf8_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xe0 && b(i + 1) < 0xa0) return 0;  // overlong
    if (c == 0xed && b(i + 1) > 0x9f) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xf0 && b(i + 1) < 0x90) return 0;
    if (c == 0xf4 && b(i + 1) > 0x8f) return 0;
    return 4;
  }
  return 0;
}
// Whether any of the 8 bytes in w needs more than a plain copy: a control
// character (< 0x20), DEL or non-ASCII (>= 0x7f), '"' or '\\'. Word-at-a-time
// ("has a zero byte" = (v - 0x01..) & ~v & 0x80..): records are mostly
// fingerprint strings, so this test decides nearly every byte.
bool needs_escape8(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  auto has_zero = [&](uint64_t v) { return (v - k01) & ~v & k80; };
  uint64_t below_space = (w - 0x20 * k01) & ~w & k80;
  return ((w & k80) | below_space | has_zero(w ^ (0x22 * k01)) | has_zero(w ^ (0x5c * k01)) |
          has_zero(w ^ (0x7f * k01))) != 0;
}

}  // namespace

void json_append_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Copy runs of plain printable ASCII in one append (the common case:
    // fingerprints, hostnames, header names).
    size_t run = i;
    while (run + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + run, 8);
      if (needs_escape8(w)) break;
      run += 8;
    }
    while (run < s.size()) {
      uint8_t b = static_cast<uint8_t>(s[run]);
      if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

}  // namespace ja4
