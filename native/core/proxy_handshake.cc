#include "proxy_handshake.h"

#include <cstring>

namespace ja4 {

namespace {

constexpr size_t kMaxSocksField = 255;
constexpr size_t kMaxConnectResponse = 8192;

// Bytes from `from` up to and including the next NUL, within a SOCKS4
// string field; 0 when incomplete, SIZE_MAX when too long.
size_t nul_terminated(const uint8_t* d, size_t n, size_t from) {
  for (size_t i = from; i < n; ++i) {
    if (d[i] == 0) return i + 1;
    if (i - from >= kMaxSocksField) return SIZE_MAX;
  }
  return n - from > kMaxSocksField ? SIZE_MAX : 0;
}

// SOCKS5 request/reply: VER CMD|REP RSV ATYP DST.ADDR DST.PORT (RFC 1928 4, 6).
ProxyStep socks5_address_message(const uint8_t* d, size_t n, size_t& len) {
  if (n < 5) return ProxyStep::NeedMore;
  if (d[0] != 5 || d[2] != 0) return ProxyStep::NotProxy;
  switch (d[3]) {
    case 1: len = 4 + 4 + 2; break;          // IPv4
    case 3: len = 4 + 1 + d[4] + 2; break;   // domain name, length-prefixed
    case 4: len = 4 + 16 + 2; break;         // IPv6
    default: return ProxyStep::NotProxy;
  }
  return n < len ? ProxyStep::NeedMore : ProxyStep::Skip;
}

}  // namespace

ProxyStep proxy_client_message(ProxyKind& kind, uint8_t& stage, const uint8_t* d, size_t n, size_t& len) {
  if (n == 0) return ProxyStep::NeedMore;
  if (kind == ProxyKind::None) {
    if (d[0] == 4) {
      // SOCKS4: VN=4 CD(1 connect, 2 bind) DSTPORT(2) DSTIP(4) USERID NUL;
      // SOCKS4a: DSTIP 0.0.0.x (x != 0), then the host name and a NUL.
      if (n < 2) return ProxyStep::NeedMore;
      if (d[1] != 1 && d[1] != 2) return ProxyStep::NotProxy;
      if (n < 9) return ProxyStep::NeedMore;
      size_t end = nul_terminated(d, n, 8);
      if (end == SIZE_MAX) return ProxyStep::NotProxy;
      if (end == 0) return ProxyStep::NeedMore;
      if (d[4] == 0 && d[5] == 0 && d[6] == 0 && d[7] != 0) {
        size_t host_end = nul_terminated(d, n, end);
        if (host_end == SIZE_MAX) return ProxyStep::NotProxy;
        if (host_end == 0) return ProxyStep::NeedMore;
        end = host_end;
      }
      kind = ProxyKind::Socks4;
      stage = kProxyDone;
      len = end;
      return ProxyStep::Skip;
    }
    if (d[0] == 5) {
      // RFC 1928 3: VER NMETHODS METHODS...
      if (n < 2) return ProxyStep::NeedMore;
      if (d[1] == 0) return ProxyStep::NotProxy;
      len = 2 + size_t(d[1]);
      if (n < len) return ProxyStep::NeedMore;
      kind = ProxyKind::Socks5;
      stage = 1;
      return ProxyStep::Skip;
    }
    return ProxyStep::NotProxy;
  }
  if (kind == ProxyKind::Socks5 && stage == 1) {
    if (d[0] == 1) {
      // RFC 1929 2: VER=1 ULEN UNAME PLEN PASSWD
      if (n < 2) return ProxyStep::NeedMore;
      size_t plen_at = 2 + size_t(d[1]);
      if (n < plen_at + 1) return ProxyStep::NeedMore;
      len = plen_at + 1 + size_t(d[plen_at]);
      return n < len ? ProxyStep::NeedMore : ProxyStep::Skip;
    }
    ProxyStep st = socks5_address_message(d, n, len);
    if (st == ProxyStep::Skip) stage = kProxyDone;
    return st;
  }
  return ProxyStep::NotProxy;
}

ProxyStep proxy_server_message(ProxyKind kind, uint8_t& stage, const uint8_t* d, size_t n, size_t& len) {
  if (n == 0) return ProxyStep::NeedMore;
  switch (kind) {
    case ProxyKind::Socks4:
      // VN=0 CD(90 granted .. 93) DSTPORT DSTIP: always 8 bytes.
      if (d[0] != 0) return ProxyStep::NotProxy;
      if (n < 8) return ProxyStep::NeedMore;
      len = 8;
      stage = kProxyDone;
      return ProxyStep::Skip;
    case ProxyKind::Socks5:
      if (stage == 0) {
        // Method selection: VER METHOD; 0x02 = username/password follows.
        if (d[0] != 5) return ProxyStep::NotProxy;
        if (n < 2) return ProxyStep::NeedMore;
        len = 2;
        stage = d[1] == 2 ? 1 : 2;
        return ProxyStep::Skip;
      }
      if (stage == 1) {
        // RFC 1929: VER=1 STATUS
        if (d[0] != 1) return ProxyStep::NotProxy;
        if (n < 2) return ProxyStep::NeedMore;
        len = 2;
        stage = 2;
        return ProxyStep::Skip;
      }
      {
        ProxyStep st = socks5_address_message(d, n, len);
        if (st == ProxyStep::Skip) stage = kProxyDone;
        return st;
      }
    case ProxyKind::HttpConnect: {
      // "HTTP/1.x 2xx ..." then headers up to the empty line (RFC 9110 9.3.6:
      // any 2xx response means the tunnel is open).
      static const char kPrefix[] = "HTTP/1.";
      size_t cmp = n < 7 ? n : 7;
      if (std::memcmp(d, kPrefix, cmp) != 0) return ProxyStep::NotProxy;
      if (n < 12) return ProxyStep::NeedMore;
      if (d[9] != '2') return ProxyStep::NotProxy;
      for (size_t i = 3; i < n && i < kMaxConnectResponse; ++i) {
        if (d[i] == '\n' && d[i - 1] == '\r' && d[i - 2] == '\n' && d[i - 3] == '\r') {
          len = i + 1;
          stage = kProxyDone;
          return ProxyStep::Skip;
        }
      }
      return n >= kMaxConnectResponse ? ProxyStep::NotProxy : ProxyStep::NeedMore;
    }
    case ProxyKind::None:
      break;
  }
  return ProxyStep::NotProxy;
}

}  // namespace ja4
