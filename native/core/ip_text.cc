#include "ip_text.h"

#include <arpa/inet.h>

#include <cstring>

namespace ja4::json {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// "::ffff:" in any case ("::FFFF:1.2.3.4" is the IPv4 client 1.2.3.4, as in normalizeIp)
bool mapped_prefix(std::string_view t) {
  constexpr std::string_view kPrefix = "::ffff:";
  if (t.size() <= kPrefix.size()) return false;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (lower(t[i]) != kPrefix[i]) return false;
  }
  return true;
}

}  // namespace

bool parse_ipv4(std::string_view t, uint8_t out[4]) {
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
    size_t start = i;
    uint32_t v = 0;
    while (i < t.size() && i - start < 3 && t[i] >= '0' && t[i] <= '9') v = v * 10 + static_cast<uint32_t>(t[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || v > 255 || (digits > 1 && t[start] == '0')) return false;
    out[part] = static_cast<uint8_t>(v);
  }
  return i == t.size();
}

bool parse_ip(std::string_view text, uint8_t out[16], std::string& key, bool trusted) {
  // a zone, from the JavaScript reader only: the column has no place for it
  if (trusted) text = text.substr(0, text.find('%'));
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  // inet_pton reads up to a NUL: "::1\u0000junk" would pass as ::1, where
  // isIP refuses it. An address is hex digits, colons and dots only.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) return false;
  }
  if (text.find(':') == std::string_view::npos) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    if (!parse_ipv4(text, out + 12)) return false;
    key.assign(text);
    return true;
  }
  if (inet_pton(AF_INET6, buf, out) != 1) return false;
  uint8_t v4[4];
  if (mapped_prefix(text) && parse_ipv4(text.substr(7), v4)) {
    key.assign(text.substr(7));
  } else {
    key.clear();
    for (char c : text) key.push_back(lower(c));
  }
  return true;
}

}  // namespace ja4::json
