#include "ip_format.h"

namespace ja4 {

namespace {

char* put_ipv4(char* p, const uint8_t* a) {
  for (int i = 0; i < 4; ++i) {
    if (i) *p++ = '.';
    unsigned v = a[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return p;
}

}  // namespace

std::string format_ipv4(const uint8_t a[4]) {
  char buf[16];
  return std::string(buf, static_cast<size_t>(put_ipv4(buf, a) - buf));
}

std::string format_ipv6(const uint8_t a[16]) {
  static const char kHex[] = "0123456789abcdef";
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>((a[2 * i] << 8) | a[2 * i + 1]);
  // The longest run of zero groups; a later run must be strictly longer.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && !w[j]) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best = -1;
  char buf[48];
  char* p = buf;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *p++ = ':';
      continue;
    }
    if (i) *p++ = ':';
    // glibc's rule for an embedded IPv4 address: ::a.b.c.d (but not ::1,
    // whose zero run is 7 long) and ::ffff:a.b.c.d.
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
      p = put_ipv4(p, a + 12);
      break;
    }
    uint16_t v = w[i];
    int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;
    for (; shift >= 0; shift -= 4) *p++ = kHex[(v >> shift) & 0xf];
  }
  if (best >= 0 && best + best_len == 8) *p++ = ':';
  return std::string(buf, static_cast<size_t>(p - buf));
}

}  // namespace ja4
