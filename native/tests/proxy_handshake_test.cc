// proxy_handshake: exact lengths of each SOCKS4/4a, SOCKS5 and CONNECT
// message, NeedMore on every proper prefix, and random bytes never read
// past the end or claim more than they hold (run under ASan by
// make test-native-asan).
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "proxy_handshake.h"

using ja4::ProxyKind;
using ja4::ProxyStep;

namespace {

std::vector<uint8_t> b(std::initializer_list<int> v) { return std::vector<uint8_t>(v.begin(), v.end()); }
std::vector<uint8_t> s(const std::string& t) { return std::vector<uint8_t>(t.begin(), t.end()); }

// Every proper prefix needs more; the whole message is one Skip of its size.
void expect_message(bool client, ProxyKind kind, uint8_t stage, const std::vector<uint8_t>& m, ProxyKind want_kind,
                    uint8_t want_stage) {
  for (size_t n = 1; n < m.size(); ++n) {
    std::vector<uint8_t> prefix(m.begin(), m.begin() + n);  // exact-size copy: ASan sees overreads
    ProxyKind k = kind;
    uint8_t st = stage;
    size_t len = 0;
    ProxyStep r = client ? ja4::proxy_client_message(k, st, prefix.data(), n, len)
                         : ja4::proxy_server_message(k, st, prefix.data(), n, len);
    CHECK(r == ProxyStep::NeedMore);
  }
  std::vector<uint8_t> whole = m;
  whole.push_back(0x16);  // the TLS record that follows is not consumed
  ProxyKind k = kind;
  uint8_t st = stage;
  size_t len = 0;
  ProxyStep r = client ? ja4::proxy_client_message(k, st, whole.data(), whole.size(), len)
                       : ja4::proxy_server_message(k, st, whole.data(), whole.size(), len);
  CHECK(r == ProxyStep::Skip);
  CHECK_EQ(len, m.size());
  CHECK(k == want_kind);
  CHECK_EQ(int(st), int(want_stage));
}

void test_messages() {
  const ProxyKind N = ProxyKind::None, S4 = ProxyKind::Socks4, S5 = ProxyKind::Socks5, C = ProxyKind::HttpConnect;
  // SOCKS4 CONNECT 198.51.100.7:443 user "alice"
  expect_message(true, N, 0, b({4, 1, 1, 187, 198, 51, 100, 7, 'a', 'l', 'i', 'c', 'e', 0}), S4, ja4::kProxyDone);
  // SOCKS4a: 0.0.0.1, empty user, host name
  expect_message(true, N, 0, b({4, 1, 1, 187, 0, 0, 0, 1, 0, 'h', '.', 'e', 0}), S4, ja4::kProxyDone);
  expect_message(false, S4, 0, b({0, 90, 1, 187, 198, 51, 100, 7}), S4, ja4::kProxyDone);
  // SOCKS5 greeting, two methods; user/pass; requests of each address type
  expect_message(true, N, 0, b({5, 2, 0, 2}), S5, 1);
  expect_message(true, S5, 1, b({1, 2, 'a', 'b', 1, 'c'}), S5, 1);
  expect_message(true, S5, 1, b({5, 1, 0, 1, 10, 0, 0, 1, 1, 187}), S5, ja4::kProxyDone);
  expect_message(true, S5, 1, b({5, 1, 0, 3, 3, 'a', '.', 'b', 1, 187}), S5, ja4::kProxyDone);
  std::vector<uint8_t> v6 = b({5, 1, 0, 4});
  v6.insert(v6.end(), 16, 0x20);
  v6.push_back(1);
  v6.push_back(187);
  expect_message(true, S5, 1, v6, S5, ja4::kProxyDone);
  expect_message(false, S5, 0, b({5, 0}), S5, 2);
  expect_message(false, S5, 0, b({5, 2}), S5, 1);
  expect_message(false, S5, 1, b({1, 0}), S5, 2);
  expect_message(false, S5, 2, b({5, 0, 0, 1, 10, 0, 0, 1, 0x9c, 0x40}), S5, ja4::kProxyDone);
  expect_message(false, C, 0, s("HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n"), C, ja4::kProxyDone);

  // Not proxies.
  size_t len = 0;
  ProxyKind k = N;
  uint8_t st = 0;
  std::vector<uint8_t> tls = b({0x16, 3, 1, 0, 5});
  CHECK(ja4::proxy_client_message(k, st, tls.data(), tls.size(), len) == ProxyStep::NotProxy);
  std::vector<uint8_t> bad4 = b({4, 9, 0, 0});
  CHECK(ja4::proxy_client_message(k, st, bad4.data(), bad4.size(), len) == ProxyStep::NotProxy);
  std::vector<uint8_t> refused = s("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
  st = 0;
  CHECK(ja4::proxy_server_message(C, st, refused.data(), refused.size(), len) == ProxyStep::NotProxy);
  std::vector<uint8_t> long_user(4 + 4 + 300, 'u');
  long_user[0] = 4, long_user[1] = 1;
  k = N, st = 0;
  CHECK(ja4::proxy_client_message(k, st, long_user.data(), long_user.size(), len) == ProxyStep::NotProxy);
}

void test_random() {
  uint64_t x = 0x2545f4914f6cdd1dull;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  const ProxyKind kinds[] = {ProxyKind::None, ProxyKind::Socks4, ProxyKind::Socks5, ProxyKind::HttpConnect};
  int skips = 0;
  for (int i = 0; i < 200000; ++i) {
    size_t n = next() % 300;
    std::vector<uint8_t> d(n);
    for (auto& c : d) c = static_cast<uint8_t>(next());
    if (n) d[0] = static_cast<uint8_t>(next() % 6);  // often a SOCKS version byte
    ProxyKind k = kinds[next() % 4];
    uint8_t st = static_cast<uint8_t>(next() % 3);
    size_t len = 0;
    ProxyStep r = (next() & 1) ? ja4::proxy_client_message(k, st, d.data(), n, len)
                               : ja4::proxy_server_message(k, st, d.data(), n, len);
    if (r == ProxyStep::Skip) {
      ++skips;
      CHECK(len > 0 && len <= n);
    }
  }
  CHECK(skips > 0);
}

}  // namespace

int main() {
  test_messages();
  test_random();
  return ja4test::finish("proxy_handshake_test");
}
