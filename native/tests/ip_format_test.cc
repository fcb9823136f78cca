// ip_format must print what inet_ntop prints (records used to come from
// it): pinned edge cases, then inet_ntop itself as the oracle over
// addresses built to hit every zero-run shape.
#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "check.h"
#include "ip_format.h"

using namespace ja4;

namespace {

std::string ntop6(const uint8_t a[16]) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a, buf, sizeof buf);
  return buf;
}

std::string v6(const char* text) {
  uint8_t a[16];
  if (inet_pton(AF_INET6, text, a) != 1) return "<bad test input>";
  return format_ipv6(a);
}

void test_pinned() {
  const uint8_t v4[] = {192, 0, 2, 255};
  CHECK_EQ(format_ipv4(v4), std::string("192.0.2.255"));
  const uint8_t zero4[] = {0, 0, 0, 0};
  CHECK_EQ(format_ipv4(zero4), std::string("0.0.0.0"));
  CHECK_EQ(v6("::"), std::string("::"));
  CHECK_EQ(v6("::1"), std::string("::1"));
  CHECK_EQ(v6("1::"), std::string("1::"));
  CHECK_EQ(v6("2001:db8::1"), std::string("2001:db8::1"));
  // A single zero group is not compressed; the first of two equal runs is.
  CHECK_EQ(v6("2001:db8:0:1:1:1:1:1"), std::string("2001:db8:0:1:1:1:1:1"));
  CHECK_EQ(v6("2001:0:0:1:0:0:1:1"), std::string("2001::1:0:0:1:1"));
  // The longer run wins wherever it is.
  CHECK_EQ(v6("1:0:0:1:0:0:0:1"), std::string("1:0:0:1::1"));
  // IPv4-mapped and IPv4-compatible forms.
  CHECK_EQ(v6("::ffff:10.1.2.3"), std::string("::ffff:10.1.2.3"));
  CHECK_EQ(v6("::10.1.2.3"), std::string("::10.1.2.3"));
  CHECK_EQ(v6("::ffff:0:10.1.2.3"), std::string("::ffff:0:a01:203"));
  CHECK_EQ(v6("fe80::abcd:ef01"), std::string("fe80::abcd:ef01"));
}

void test_against_inet_ntop() {
  // Every pattern of zero/non-zero groups (256), each with group values of
  // 1 to 4 hex digits and the 0xffff of IPv4-mapped addresses in group 5.
  const uint16_t values[] = {0x1, 0x2a, 0xbcd, 0xffff, 0x1000, 0xf00};
  int mismatches = 0;
  for (unsigned mask = 0; mask < 256; ++mask) {
    for (unsigned v = 0; v < sizeof values / sizeof values[0]; ++v) {
      uint8_t a[16];
      for (int g = 0; g < 8; ++g) {
        uint16_t w = (mask >> g) & 1 ? static_cast<uint16_t>(values[(v + g) % 6]) : 0;
        a[2 * g] = static_cast<uint8_t>(w >> 8);
        a[2 * g + 1] = static_cast<uint8_t>(w);
      }
      if (format_ipv6(a) != ntop6(a)) ++mismatches;
      // The same with group 5 = ffff (IPv4-mapped when 0-4 are zero).
      a[10] = a[11] = 0xff;
      if (format_ipv6(a) != ntop6(a)) ++mismatches;
    }
  }
  CHECK_EQ(mismatches, 0);
}

}  // namespace

int main() {
  test_pinned();
  test_against_inet_ntop();
  return ja4test::finish("ip_format_test");
}
