// A cursor over one line of JSON (RFC 8259) that takes only what it can
// decode exactly as JavaScript's JSON.parse would: the correlator's native
// readers (reqin_record.h: mod_reqin_log records, tls_event_line.h: TLS
// events) refuse anything else and leave it to the JavaScript reader, so
// every method returns false on doubt, never a guess. Header-only: the
// readers' inner loops call these per field, and they inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "utf8.h"

namespace ja4::json {

// A decoded string: a piece of the line itself when it had no escape (the
// common case: no copy), else of the reader's scratch, which the caller
// reserves to the line's size first (decoding never grows a string) so
// pieces stay valid.
using Span = std::string_view;

// nesting that skip() follows at most (a record has 3 levels)
constexpr int kMaxDepth = 64;

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes a string run takes as they are: "any Unicode characters except
// those that must be escaped: quotation mark, reverse solidus, and the
// control characters" (RFC 8259 section 7), ASCII only (the rest is checked
// as UTF-8 on the slow path).
struct PlainBytes {
  bool on[256] = {};
  constexpr PlainBytes() {
    for (int c = 0x20; c < 0x80; ++c) on[c] = c != '"' && c != '\\';
  }
  constexpr bool operator[](unsigned char c) const { return on[c]; }
};
constexpr PlainBytes kPlain;

// The first byte at or after p that is not plain (or end): sixteen bytes at
// a time with SSE2 (every x86-64), else eight where the machine is
// little-endian. A byte is flagged when it is
// '"', '\\', below 0x20 or at or above 0x80; the classic zero-byte test
// (x - 0x01..) & ~x & 0x80.. flags the first such byte exactly (a borrow
// only reaches bytes above it), and the first is all that is read.
inline const char* skip_plain(const char* p, const char* end) {
#if defined(__SSE2__)
  // sixteen at a time: signed compares, so bytes >= 0x80 (negative) count as below 0x20
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), _mm_cmplt_epi8(v, space));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    uint64_t quote = v ^ (kOnes * '"'), slash = v ^ (kOnes * '\\');
    uint64_t hit = ((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash) | ((v - kOnes * 0x20) & ~v) | v;
    hit &= kHighs;
    if (hit != 0) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
#endif
  while (p < end && kPlain[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// A cursor over one line of JSON (RFC 8259). Every method returns false on
// anything it does not take exactly as JSON.parse would.
struct Reader {
  const char* p;
  const char* end;
  std::string* scratch;  // where escaped strings are decoded

  void ws() {
    // the module writes none: one test for the usual case
    if (p < end && static_cast<unsigned char>(*p) > ' ') return;
    while (p < end && is_ws(*p)) ++p;
  }
  bool take(char c) {
    ws();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (static_cast<size_t>(end - p) < n || std::memcmp(p, word, n) != 0) return false;
    p += n;
    return true;
  }
  bool null() {
    ws();
    return p < end && *p == 'n' && literal("null");
  }

  // A string, decoded: `out` is a piece of the line when it holds no
  // escape, else of *scratch. `ascii`: every decoded byte is below 0x80
  // (then it is the same text in latin1 and UTF-8).
  bool string(Span& out, bool& ascii) {
    ws();
    if (p >= end || *p != '"') return false;
    const char* start = ++p;
    ascii = true;
    p = skip_plain(p, end);
    if (p < end && *p == '"') {
      out = Span(start, static_cast<size_t>(p - start));
      ++p;
      return true;
    }
    size_t at = scratch->size();
    scratch->append(start, static_cast<size_t>(p - start));
    if (!decode(*scratch, ascii)) return false;
    out = Span(scratch->data() + at, scratch->size() - at);
    return true;
  }

  // The rest of a string from an escape, a control byte or a non-ASCII
  // byte on, appended to `out`; p ends past the closing quote.
  bool decode(std::string& out, bool& ascii_out) {
    bool ascii = true;
    for (;;) {
      const char* run = p;
      p = skip_plain(p, end);
      out.append(run, static_cast<size_t>(p - run));
      if (p >= end) return false;
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++p;
        ascii_out = ascii;
        return true;
      }
      if (c < 0x20) return false;  // "All code points may be placed within the quotation marks except ... the control characters"
      if (c >= 0x80) {
        size_t n = utf8_sequence(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end));
        if (n == 0) return false;
        out.append(p, n);
        p += n;
        ascii = false;
        continue;
      }
      // "\" escape
      if (++p >= end) return false;
      char e = *p++;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t u = 0;
          if (!hex4(u)) return false;
          if (u >= 0xdc00 && u <= 0xdfff) return false;  // a lone low surrogate
          if (u >= 0xd800 && u <= 0xdbff) {
            // "represented as a twelve-character sequence, encoding the UTF-16 surrogate pair"
            uint32_t lo = 0;
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') return false;
            p += 2;
            if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
          }
          if (u >= 0x80) ascii = false;
          append_utf8(out, u);
          break;
        }
        default:
          return false;
      }
    }
  }
  bool hex4(uint32_t& u) {
    if (end - p < 4) return false;
    for (int i = 0; i < 4; ++i) {
      int v = hex_value(p[i]);
      if (v < 0) return false;
      u = (u << 4) | static_cast<uint32_t>(v);
    }
    p += 4;
    return true;
  }

  // A non-negative integer written as plain digits, at most `max`. A
  // fraction, an exponent, a sign or a leading zero is refused (JSON.parse
  // reads 1.0 and 1e3 as integers: the JavaScript reader decides those).
  bool uint(uint64_t max, uint64_t& v) {
    ws();
    const char* start = p;
    v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      if (p - start >= 16) return false;
      v = v * 10 + static_cast<uint64_t>(*p - '0');
      ++p;
    }
    size_t digits = static_cast<size_t>(p - start);
    if (digits == 0 || (digits > 1 && *start == '0')) return false;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return false;
    return v <= max;
  }

  // Any JSON value, checked and skipped (the fields the reader ignores).
  bool skip(int depth) {
    if (depth > kMaxDepth) return false;
    ws();
    if (p >= end) return false;
    char c = *p;
    Span sink;
    bool ascii;
    if (c == '"') return string(sink, ascii);
    if (c == '{') {
      ++p;
      if (take('}')) return true;
      do {
        if (!string(sink, ascii) || !take(':') || !skip(depth + 1)) return false;
      } while (take(','));
      return take('}');
    }
    if (c == '[') {
      ++p;
      if (take(']')) return true;
      do {
        if (!skip(depth + 1)) return false;
      } while (take(','));
      return take(']');
    }
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    // number = [ minus ] int [ frac ] [ exp ]
    if (c == '-') ++p;
    if (p >= end || *p < '0' || *p > '9') return false;
    if (*p == '0') ++p;
    else while (p < end && *p >= '0' && *p <= '9') ++p;
    if (p < end && *p == '.') {
      ++p;
      if (p >= end || *p < '0' || *p > '9') return false;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      if (p >= end || *p < '0' || *p > '9') return false;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    return true;
  }
};

// An object's members, each handed to `member(key)` with the reader before
// its value; false when the text is not an object or a member refuses.
template <class Member>
bool members(Reader& r, Member member) {
  if (!r.take('{')) return false;
  if (r.take('}')) return true;
  do {
    Span key;
    bool ascii;
    if (!r.string(key, ascii) || !r.take(':') || !member(key)) return false;
  } while (r.take(','));
  return r.take('}');
}

// An array's items, each handed to `item()` with the reader before it.
template <class Item>
bool items(Reader& r, Item item) {
  if (!r.take('[')) return false;
  if (r.take(']')) return true;
  do {
    if (!item()) return false;
  } while (r.take(','));
  return r.take(']');
}

// The next value's first byte, or 0 at the end.
inline char peek(Reader& r) {
  r.ws();
  return r.p < r.end ? *r.p : '\0';
}

}  // namespace ja4::json
