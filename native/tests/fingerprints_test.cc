// Spec edge cases of JA4, JA4S, JA3, JA4H and JA4T, each pinned with an
// exact expected string. Golden vectors marked "reference" are the ones in
// FoxIO's own unit tests; the others are computed by hand from the spec.
#include <string>
#include <vector>

#include "check.h"
#include "hash.h"
#include "ja4h.h"
#include "tcp_fingerprints.h"
#include "tls_fingerprints.h"

using namespace ja4;

namespace {

ClientHello chrome_like() {
  // reference: FoxIO rust/ja4/src/tls.rs test_client_stats_into_out
  ClientHello ch;
  ch.legacy_version = 0x0303;
  ch.ciphers = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  ch.extensions = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                   0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
  ch.signature_algorithms = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
  ch.supported_versions = {0x0304, 0x0303};
  ch.has_sni = true;
  ch.sni = "example.com";
  ch.alpn = {"h2", "http/1.1"};
  return ch;
}

void test_reference_vector() {
  Ja4Client fp = ja4_fingerprint(chrome_like(), TlsTransport::Tcp);
  CHECK_EQ(fp.ja4, std::string("t13d1516h2_8daaf6152771_e5627efa2ab1"));
  CHECK_EQ(fp.ja4_o, std::string("t13d1516h2_acb858a92679_18f69afefd3d"));
  CHECK_EQ(fp.ja4_r, std::string("t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"));
  CHECK_EQ(fp.ja4_ro, std::string("t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601"));
}

void test_grease_everywhere() {
  ClientHello base = chrome_like();
  ClientHello g = base;
  g.ciphers.insert(g.ciphers.begin(), 0x0a0a);
  g.extensions.insert(g.extensions.begin(), 0x1a1a);
  g.extensions.push_back(0xfafa);
  g.signature_algorithms.insert(g.signature_algorithms.begin() + 2, 0x2a2a);  // GREASE in sigalgs
  g.supported_versions.insert(g.supported_versions.begin(), 0x7a7a);
  Ja4Client a = ja4_fingerprint(base, TlsTransport::Tcp);
  Ja4Client b = ja4_fingerprint(g, TlsTransport::Tcp);
  CHECK_EQ(b.ja4, a.ja4);
  CHECK_EQ(b.ja4_r, a.ja4_r);
  CHECK_EQ(b.ja4_ro, a.ja4_ro);
  CHECK(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x1301));
  // JA3 drops GREASE too.
  CHECK_EQ(ja3_fingerprint(g).full, ja3_fingerprint(base).full);
}

void test_alpn_edge_cases() {
  CHECK_EQ(ja4_alpn_chars(""), std::string("00"));
  CHECK_EQ(ja4_alpn_chars("h2"), std::string("h2"));
  CHECK_EQ(ja4_alpn_chars("http/1.1"), std::string("h1"));
  // One character: it is both the first and the last.
  CHECK_EQ(ja4_alpn_chars("h"), std::string("hh"));
  // Non-alphanumeric first or last byte: first and last characters of the
  // hex representation (spec), where the reference tool prints "99".
  CHECK_EQ(ja4_alpn_chars(std::string("\xab\xcd", 2)), std::string("ad"));
  CHECK_EQ(ja4_alpn_chars(std::string("\xab", 1)), std::string("ab"));
  CHECK_EQ(ja4_alpn_chars(std::string("h\x01", 2)), std::string("61"));
  ClientHello ch = chrome_like();
  ch.alpn = {std::string("\xab\xcd", 2), "h2"};
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 10), std::string("t13d1516ad"));
  ch.alpn = {"x"};
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 10), std::string("t13d1516xx"));
}

void test_empty_lists() {
  ClientHello ch;
  ch.legacy_version = 0x0303;
  Ja4Client fp = ja4_fingerprint(ch, TlsTransport::Tcp);
  // No ciphers, no extensions: both hashes are twelve zeros, not sha256("").
  CHECK_EQ(fp.ja4, std::string("t12i000000_000000000000_000000000000"));
  CHECK_EQ(fp.ja4_r, std::string("t12i000000__"));
  ch.ciphers = {0x1301};
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4,
           "t12i010000_" + sha256_hex("1301", 12) + "_000000000000");
}

void test_no_signature_algorithms() {
  ClientHello ch = chrome_like();
  ch.signature_algorithms.clear();
  Ja4Client fp = ja4_fingerprint(ch, TlsTransport::Tcp);
  // No trailing underscore when there are no signature algorithms.
  std::string exts = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01";
  CHECK_EQ(fp.ja4_r.substr(fp.ja4_r.size() - exts.size() - 1), "_" + exts);
  CHECK_EQ(fp.ja4.substr(24), sha256_hex(exts, 12));
}

void test_counts_capped_at_99() {
  ClientHello ch;
  ch.legacy_version = 0x0303;
  for (uint16_t i = 1; i <= 150; ++i) ch.ciphers.push_back(i);
  for (uint16_t i = 0x100; i < 0x100 + 120; ++i) ch.extensions.push_back(i);
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 10), std::string("t12i999900"));
}

void test_sni_alpn_counted_not_hashed() {
  ClientHello ch = chrome_like();
  ClientHello without = ch;
  // Dropping SNI and ALPN changes the counts and markers, not the sorted hash.
  without.extensions.erase(without.extensions.begin() + 3);  // 0x0010
  without.extensions.erase(without.extensions.begin() + 1);  // 0x0000
  without.has_sni = false;
  without.alpn.clear();
  Ja4Client a = ja4_fingerprint(ch, TlsTransport::Tcp);
  Ja4Client b = ja4_fingerprint(without, TlsTransport::Tcp);
  CHECK_EQ(b.ja4.substr(0, 10), std::string("t13i151400"));
  CHECK_EQ(a.ja4.substr(10), b.ja4.substr(10));
  CHECK(a.ja4_o != b.ja4_o);  // the original-order form keeps them
}

void test_versions_and_transports() {
  ClientHello ch = chrome_like();
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Quic).ja4.substr(0, 3), std::string("q13"));
  ch.supported_versions.clear();
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 3), std::string("t12"));
  ch.legacy_version = 0x0300;
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 3), std::string("ts3"));
  ch.legacy_version = 0x1234;
  CHECK_EQ(ja4_fingerprint(ch, TlsTransport::Tcp).ja4.substr(0, 3), std::string("t00"));
  ClientHello d = chrome_like();
  d.dtls = true;
  d.supported_versions = {0xfefc, 0xfefd};  // DTLS 1.3 is the "highest"
  CHECK_EQ(ja4_fingerprint(d, TlsTransport::Dtls).ja4.substr(0, 3), std::string("dd3"));
}

void test_ja4s() {
  // reference: FoxIO test_server_stats_into_out
  ServerHello sh;
  sh.legacy_version = 0x0303;
  sh.cipher = 0xc030;
  sh.extensions = {0x0005, 0x0017, 0xff01, 0x0000};
  Ja4Server s = ja4s_fingerprint(sh, TlsTransport::Tcp);
  CHECK_EQ(s.ja4s, std::string("t120400_c030_4e8089b08790"));
  CHECK_EQ(s.ja4s_r, std::string("t120400_c030_0005,0017,ff01,0000"));
  sh.selected_version = 0x0304;
  sh.has_alpn = true;
  sh.alpn = "h2";
  CHECK_EQ(ja4s_fingerprint(sh, TlsTransport::Quic).ja4s.substr(0, 12), std::string("q1304h2_c030"));
  sh.extensions.clear();
  CHECK_EQ(ja4s_fingerprint(sh, TlsTransport::Tcp).ja4s, std::string("t1300h2_c030_000000000000"));
}

void test_ja3() {
  ClientHello ch;
  ch.legacy_version = 0x0303;
  ch.ciphers = {0x0a0a, 0x1301, 0xc02b};
  ch.extensions = {0x0000, 0x000a, 0x000b, 0xfafa};
  ch.supported_groups = {0x2a2a, 0x001d, 0x0017};
  ch.ec_point_formats = {0};
  Ja3 j = ja3_fingerprint(ch);
  CHECK_EQ(j.full, std::string("771,4865-49195,0-10-11,29-23,0"));
  CHECK_EQ(j.hash, md5_hex("771,4865-49195,0-10-11,29-23,0"));
  ServerHello sh;
  sh.legacy_version = 0x0303;
  sh.cipher = 0x1301;
  sh.extensions = {0x002b, 0x0033};
  CHECK_EQ(ja3s_fingerprint(sh).full, std::string("771,4865,43-51"));
}

void test_ja4h() {
  // reference: FoxIO rust/ja4/src/http.rs test_http_stats_into_out
  HttpRequest r;
  r.method = "GET";
  r.version = "HTTP/1.1";
  r.headers = {
      {"Host", "www.cnn.com"},
      {"Cookie", "FastAB=0=6859,1=8174,2=4183,3=3319,4=3917,5=2557,6=4259,7=6070,8=0804,9=6453,10=1942,11=4435,12=4143,13=9445,14=6957,15=8682,16=1885,17=1825,18=3760,19=0929; sato=1; countryCode=US; stateCode=VA; geoData=purcellville|VA|20132|US|NA|-400|broadband|39.160|-77.700|511; usprivacy=1---; umto=1; _dd_s=logs=1&id=b5c2d770-eaba-4847-8202-390c4552ff9a&created=1686159462724&expire=1686160422726"},
      {"Sec-Ch-Ua", ""},
      {"Sec-Ch-Ua-Mobile", "?0"},
      {"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.110 Safari/537.36"},
      {"Sec-Ch-Ua-Platform", "\"\""},
      {"Accept", "*/*"},
      {"Sec-Fetch-Site", "same-origin"},
      {"Sec-Fetch-Mode", "cors"},
      {"Sec-Fetch-Dest", "empty"},
      {"Sec-Fetch-Mode", "cors"},
      {"Sec-Fetch-Dest", "empty"},
      {"Referer", "https://www.cnn.com/"},
      {"Accept-Encoding", "gzip, deflate"},
      {"Accept-Language", "en-US,en;q=0.9"},
  };
  Ja4H h = ja4h_fingerprint(r);
  CHECK_EQ(h.ja4h, std::string("ge11cr13enus_88d2d584d47f_0f2659b474bf_161698816dab"));
  // No cookies, no referer, no language; method and version codes.
  HttpRequest p;
  p.method = "POST";
  p.version = "HTTP/1.0";
  p.headers = {{"Host", "x"}, {"Content-Length", "3"}};
  Ja4H ph = ja4h_fingerprint(p);
  CHECK_EQ(ph.ja4h, "po10nn020000_" + sha256_hex("Host,Content-Length", 12) + "_000000000000_000000000000");
  CHECK_EQ(ph.ja4h_r, std::string("po10nn020000_Host,Content-Length__"));
}

void test_ja4t() {
  // Windows 10: MSS, NOP, WS, NOP, NOP, SACK_PERM
  const uint8_t win[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
  CHECK_EQ(ja4t_fingerprint(64240, win, sizeof win), std::string("64240_2-1-3-1-1-4_1460_8"));
  // A SYN without TCP options: the spec's "00" placeholders (the reference
  // tool's output differs here).
  CHECK_EQ(ja4t_fingerprint(8192, nullptr, 0), std::string("8192_00_00_00"));
  // Window scale present with shift 0 prints "0"; EOL padding is listed.
  const uint8_t ws0[] = {2, 4, 0x05, 0x9c, 3, 3, 0, 0, 0};
  CHECK_EQ(ja4t_fingerprint(5744, ws0, sizeof ws0), std::string("5744_2-3-0-0_1436_0"));
  // Truncated option: stop, keep what was read.
  const uint8_t bad[] = {2, 4, 0x05};
  CHECK_EQ(ja4t_fingerprint(1, bad, sizeof bad), std::string("1_2_00_00"));
}

void test_forms_left_out() {
  // Only the sorted hashed forms: the same hashes, no raw or original strings.
  FingerprintForms none{false, false};
  ClientHello ch = chrome_like();
  Ja4Client all = ja4_fingerprint(ch, TlsTransport::Tcp);
  Ja4Client some = ja4_fingerprint(ch, TlsTransport::Tcp, none);
  CHECK_EQ(some.ja4, all.ja4);
  CHECK_EQ(some.ja4_r, std::string());
  CHECK_EQ(some.ja4_o, std::string());
  CHECK_EQ(some.ja4_ro, std::string());
  // Original order without raw: ja4_o only.
  Ja4Client orig = ja4_fingerprint(ch, TlsTransport::Tcp, FingerprintForms{false, true});
  CHECK_EQ(orig.ja4_o, all.ja4_o);
  CHECK_EQ(orig.ja4, all.ja4);
  CHECK_EQ(orig.ja4_ro, std::string());
  // Raw without original: ja4_r only.
  Ja4Client raw = ja4_fingerprint(ch, TlsTransport::Tcp, FingerprintForms{true, false});
  CHECK_EQ(raw.ja4_r, all.ja4_r);
  CHECK_EQ(raw.ja4_o, std::string());
  Ja3 j = ja3_fingerprint(ch, none);
  CHECK_EQ(j.hash, ja3_fingerprint(ch).hash);
  CHECK_EQ(j.full, std::string());
  ServerHello sh;
  sh.legacy_version = 0x0303;
  sh.cipher = 0x1301;
  sh.extensions = {0x002b, 0x0033};
  sh.selected_version = 0x0304;
  Ja4Server s_all = ja4s_fingerprint(sh, TlsTransport::Tcp);
  Ja4Server s_none = ja4s_fingerprint(sh, TlsTransport::Tcp, none);
  CHECK_EQ(s_none.ja4s, s_all.ja4s);
  CHECK_EQ(s_none.ja4s_r, std::string());
  CHECK_EQ(ja3s_fingerprint(sh, none).hash, ja3s_fingerprint(sh).hash);
  CHECK_EQ(ja3s_fingerprint(sh).full, std::string("771,4865,43-51"));
  CHECK_EQ(ja3s_fingerprint(sh, none).full, std::string());
}

}  // namespace

int main() {
  test_reference_vector();
  test_grease_everywhere();
  test_alpn_edge_cases();
  test_empty_lists();
  test_no_signature_algorithms();
  test_counts_capped_at_99();
  test_sni_alpn_counted_not_hashed();
  test_versions_and_transports();
  test_ja4s();
  test_ja3();
  test_ja4h();
  test_ja4t();
  test_forms_left_out();
  return ja4test::finish("fingerprints_test");
}
