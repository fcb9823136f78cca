// The native mod_reqin_log reader (reqin_record.h) and the blocks built
// from it (request_blocks.h): exact cells for a record, the lines it must
// leave to the JavaScript reader, and block bytes. That every accepted line
// decodes as JSON.parse + toHttpRecord would is checked from JavaScript
// (test/correlator-native-requests.test.ts), against the reader itself.
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "request_blocks.h"

using namespace ja4::reqin;

namespace {

const char* kLine =
    R"({"v":1,"ts_us":1795311323258400,"dur_us":483,"conn":"10275-660d37d9fd414-0",)"
    R"("client_ip":"203.0.113.7","client_port":50318,"local_ip":"192.0.2.10","local_port":443,"req_n":2,)"
    R"("vhost":"www.example.org","method":"GET","scheme":"https","host":"www.example.org",)"
    R"("uri":"/index.html?x=1","proto":"HTTP/1.1","status":200,"bytes_in":412,"bytes_out":5731,)"
    R"("unique_id":null,"tls":{"protocol":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384","sni":"www.example.org"},)"
    R"("header_order":["Host","User-Agent","Accept","Accept-Language","Accept-Encoding","Cookie"],)"
    R"("headers":{"user-agent":"Mozilla/5.0","accept":"text/html","accept-language":"en-US",)"
    R"("accept-encoding":"gzip, br"},"cookies":["sid","theme"],"truncated":[]})";

std::string str_cell(std::string_view s) {
  std::string out(1, static_cast<char>(s.size()));  // short strings: a one-byte length
  out.append(s);
  return out;
}


bool parses(RecordParser& p, const std::string& line) {
  Record r;
  return p.parse(line.data(), line.size(), r);
}

void test_cells() {
  RecordParser p;
  Record r;
  CHECK(p.parse(kLine, std::strlen(kLine), r));
  CHECK_EQ(r.ts_us, 1795311323258400ULL);
  CHECK_EQ(r.client_ip, std::string("203.0.113.7"));
  CHECK_EQ(r.local_ip, std::string("192.0.2.10"));
  CHECK_EQ(r.client_port, 50318u);
  CHECK_EQ(r.local_port, 443u);
  CHECK_EQ(r.conn, std::string("10275-660d37d9fd414-0"));
  CHECK(r.tls_request);
  CHECK_EQ(std::string(r.cell(kRequestId)), str_cell("10275-660d37d9fd414-0:2"));
  CHECK_EQ(std::string(r.cell(kMethod)), str_cell("GET"));
  CHECK_EQ(std::string(r.cell(kUniqueId)), str_cell(""));
  CHECK_EQ(std::string(r.cell(kTlsVersion)), str_cell("13"));
  // JA4H of the same request as src/correlator/ja4h.ts gives it (test/correlator-ja4h.test.ts pins the algorithm)
  CHECK_EQ(std::string(r.cell(kJa4h)).substr(1, 12), std::string("ge11cn05enus"));
  const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7};
  CHECK(r.cell(kClientIp) == std::string_view(reinterpret_cast<const char*>(mapped), 16));
  std::string names(r.cell(kHeaderNames));
  CHECK_EQ(names.substr(0, 4), std::string("\x06\0\0\0", 4));
  CHECK_EQ(names.substr(4, 5), str_cell("Host"));
  CHECK_EQ(std::string(r.cell(kTruncated)), std::string(1, '\0'));
  CHECK_EQ(r.cell(kStatus).size(), 2u);
  CHECK_EQ(static_cast<uint8_t>(r.cell(kStatus)[0]), 200);
}

void test_escapes_and_normalizing() {
  RecordParser p;
  Record r;
  std::string line = ja4test::edited(kLine, R"("uri":"/index.html?x=1")", R"("uri":"/a\"b\\c\/d\u00e9\ud83d\ude00\n")");
  line = ja4test::edited(line, R"("client_ip":"203.0.113.7")", R"("client_ip":"::FFFF:203.0.113.7")");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK_EQ(std::string(r.cell(kUri)), str_cell("/a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80\n"));
  // normalizeIp: the "::ffff:" prefix in any case is cut before a dotted quad (the IPv4 client); anything else is lowercased
  CHECK_EQ(r.client_ip, std::string("203.0.113.7"));
  line = ja4test::edited(kLine, R"("client_ip":"203.0.113.7")", R"("client_ip":"::ffff:203.0.113.7")");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK_EQ(r.client_ip, std::string("203.0.113.7"));
  // "::ffff:" then an IPv6 tail is not IPv4-mapped: the whole address is the key
  line = ja4test::edited(kLine, R"("client_ip":"203.0.113.7")", R"("client_ip":"::ffff:0:1.2.3.4")");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK_EQ(r.client_ip, std::string("::ffff:0:1.2.3.4"));
  line = ja4test::edited(kLine, R"("client_ip":"203.0.113.7")", R"("client_ip":"2001:DB8::1")");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK_EQ(r.client_ip, std::string("2001:db8::1"));
  // nulls are defaults; a missing local_ip is '' (the column's ::)
  line = ja4test::edited(kLine, R"("local_ip":"192.0.2.10","local_port":443,)", R"("local_ip":null,"local_port":null,)");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK(r.local_ip.empty());
  CHECK(r.cell(kLocalIp) == std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));
  // unique_id, when logged, is the request id
  line = ja4test::edited(kLine, R"("unique_id":null)", R"("unique_id":"awJG20Ej")");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK_EQ(std::string(r.cell(kRequestId)), str_cell("awJG20Ej"));
  // whitespace JSON allows, and unknown keys with nested values, are skipped
  line = ja4test::edited(kLine, R"("v":1,)", " \"v\" : [1, {\"a\": [true, false, null, -1.5e3]}] ,\t");
  CHECK(p.parse(line.data(), line.size(), r));
  CHECK(parses(p, std::string(kLine) + " \r"));
}

// What the reader must leave to JSON.parse + toHttpRecord (which may accept
// some and count the others): never decided here.
void test_refusals() {
  RecordParser p;
  const std::vector<std::pair<std::string, std::string>> edits = {
      {R"("status":200)", R"("status":200.0)"},             // an integer to JSON.parse
      {R"("status":200)", R"("status":2e2)"},
      {R"("status":200)", R"("status":0200)"},              // not JSON
      {R"("status":200)", R"("status":-0)"},
      {R"("status":200)", R"("status":70000)"},             // out of range
      {R"("status":200)", R"("status":"200")"},
      {R"("dur_us":483)", R"("dur_us":483,"dur_us":484)"},  // duplicate key: JSON.parse keeps the last
      {R"("uri":"/index.html?x=1")", R"("uri":"\ud800")"},  // lone surrogate
      {R"("uri":"/index.html?x=1")", "\"uri\":\"\xff\""},   // invalid UTF-8
      {R"("uri":"/index.html?x=1")", "\"uri\":\"\xc0\xaf\""},  // overlong
      {R"("uri":"/index.html?x=1")", "\"uri\":\"a\tb\""},   // raw control byte
      {R"("uri":"/index.html?x=1")", R"("uri":"\x")"},      // bad escape
      {R"("client_ip":"203.0.113.7")", R"("client_ip":"203.0.113.07")"},
      {R"("client_ip":"203.0.113.7")", R"("client_ip":"fe80::1%eth0")"},  // a zone: JavaScript's decision
      {R"("client_ip":"203.0.113.7")", R"("client_ip":"")"},
      {R"("client_ip":"203.0.113.7")", R"("client_ip":"::1\u0000junk")"},  // inet_pton stops at a NUL; isIP does not
      {R"("client_ip":"203.0.113.7","client_port":50318,)", ""},  // required
      {R"("conn":"10275-660d37d9fd414-0")", R"("conn":"")"},
      {R"("conn":"10275-660d37d9fd414-0")", R"("conn":"caf\u00e9")"},  // the join key must be ASCII here
      {R"("ts_us":1795311323258400)", R"("ts_us":0)"},
      {R"("ts_us":1795311323258400)", R"("ts_us":4102444800000001)"},
      {R"("accept":"text/html")", R"("123":"x")"},          // an integer-like key moves first in JavaScript
      {R"("accept":"text/html")", R"("accept-encoding":"x")"},  // duplicate header
      {R"("accept":"text/html")", R"("accept":null)"},
      {R"("cookies":["sid","theme"])", R"("cookies":["sid",null])"},
      {R"("Accept-Language",)", "\"Accept-\xe2\x84\xaa" "anguage\","},  // non-ASCII header name (JA4H lowercases as UTF-16)
      {R"("tls":{)", R"("tls":{"sni":"a",)"},                // duplicate in tls
      {R"("headers":{)", R"("headers":[{)"},
  };
  for (const auto& [from, to] : edits) {
    std::string line = ja4test::edited(kLine, from, to);
    if (parses(p, line)) std::fprintf(stderr, "accepted: %s -> %s\n", from.c_str(), to.c_str());
    CHECK(!parses(p, line));
  }
  CHECK(!parses(p, std::string(kLine) + "x"));
  CHECK(!parses(p, std::string(kLine).substr(0, 300)));
  CHECK(!parses(p, "[1]"));
  CHECK(!parses(p, "{}"));
  CHECK(!parses(p, "\xef\xbb\xbf" + std::string(kLine)));  // a BOM is not JSON whitespace
  // deep nesting in an unknown key: refused, not recursed without end
  std::string deep = ja4test::edited(kLine, R"("v":1,)", "\"v\":" + std::string(100000, '[') + std::string(100000, ']') + ",");
  CHECK(!parses(p, deep));
  // the canonical path takes a zone and an integer-like header name as the JavaScript reader left them
  Record r;
  std::string zone = ja4test::edited(kLine, R"("client_ip":"203.0.113.7")", R"("client_ip":"fe80::1%eth0")");
  CHECK(p.parse_canonical(zone.data(), zone.size(), "ge11cn05enus_aaaaaaaaaaaa_bbbbbbbbbbbb_bbbbbbbbbbbb", r));
  CHECK_EQ(std::string(r.cell(kJa4h)), str_cell("ge11cn05enus_aaaaaaaaaaaa_bbbbbbbbbbbb_bbbbbbbbbbbb"));
  const uint8_t fe80[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK(r.cell(kClientIp) == std::string_view(reinterpret_cast<const char*>(fe80), 16));
}

void test_blocks() {
  RequestStore st;
  int32_t a = st.parse(kLine, std::strlen(kLine));
  std::string plain = ja4test::edited(kLine, R"("local_ip":"192.0.2.10","local_port":443,)", R"("local_ip":"","local_port":0,)");
  int32_t b = st.parse(plain.data(), plain.size());
  CHECK(a >= 0 && b >= 0 && a != b);
  // a connection: sni "c.example", server 192.0.2.99:8443, ttl 64, one ja4x item
  std::string blob = str_cell("c.example");
  const uint8_t server[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 99};
  blob.append(reinterpret_cast<const char*>(server), 16);
  blob += std::string("\xfb\x20", 2);  // 8443
  blob += '\x40';
  blob += std::string("\x01\0\0\0", 4);
  const char* strings[] = {"13", "h2", "t13d1516h2_8daaf6152771_e5627efa2ab1", "r", "o", "ja3", "ja4s", "ja4t", "ja4ts", "lc", "ls"};
  for (const char* s : strings) blob += str_cell(s);
  blob += str_cell("x509");
  int32_t tls = st.add_tls(reinterpret_cast<const uint8_t*>(blob.data()), blob.size());
  CHECK(tls >= 0);
  CHECK_EQ(st.add_tls(reinterpret_cast<const uint8_t*>(blob.data()), blob.size() - 1), -1);  // truncated
  const int32_t rec[] = {a, b};
  const int32_t entries[] = {tls, tls};
  const uint8_t status[] = {kMatched, kMatched};
  std::string block;
  st.write_ingest(block, rec, entries, status, 2);
  CHECK_EQ(st.live_records(), 0u);  // released with their rows
  // header: 38 columns, 2 rows
  CHECK_EQ(static_cast<uint8_t>(block[0]), 38);
  CHECK_EQ(static_cast<uint8_t>(block[1]), 2);
  // server_ip: Apache's local address for the first row, the connection's for the second
  auto column = [&](const std::string& name, const std::string& type) {
    std::string head = str_cell(name) + str_cell(type);
    size_t at = block.find(head);
    return at == std::string::npos ? std::string() : block.substr(at + head.size());
  };
  std::string ips = column("server_ip", "IPv6");
  const uint8_t local[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10};
  CHECK(ips.substr(0, 16) == std::string(reinterpret_cast<const char*>(local), 16));
  CHECK(ips.substr(16, 16) == std::string(reinterpret_cast<const char*>(server), 16));
  std::string ports = column("server_port", "UInt16");
  CHECK_EQ(ports.substr(0, 4), std::string("\xbb\x01\xfb\x20", 4));  // 443, 8443
  // sni: the connection's over mod_ssl's
  CHECK_EQ(column("sni", "String").substr(0, 20), str_cell("c.example") + str_cell("c.example"));
  // ja4x: offsets 1, 2 then the items
  std::string ja4x = column("ja4x", "Array(String)");
  CHECK_EQ(ja4x.substr(0, 16), std::string("\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16));
  CHECK_EQ(ja4x.substr(16, 10), str_cell("x509") + str_cell("x509"));
  // the connection's columns are freed after the block that follows its release
  st.release_tls(tls);
  CHECK_EQ(st.live_tls(), 0u);
  std::string empty;
  st.write_ingest(empty, nullptr, nullptr, nullptr, 0);
  CHECK(empty.empty());
  CHECK_EQ(st.add_tls(reinterpret_cast<const uint8_t*>(blob.data()), blob.size()), tls);  // the slot again
  // an unseen handshake: tls_version from the record, the rest empty, mod_ssl's sni
  int32_t c = st.parse(kLine, std::strlen(kLine));
  const int32_t rec2[] = {c};
  const int32_t none[] = {-1};
  const uint8_t not_seen[] = {kTlsNotSeen};
  block.clear();
  st.write_ingest(block, rec2, none, not_seen, 1);
  CHECK_EQ(column("tls_version", "String").substr(0, 3), str_cell("13"));
  CHECK_EQ(column("sni", "String").substr(0, 16), str_cell("www.example.org"));
  CHECK_EQ(column("correlation_status", "String").substr(0, 13), str_cell("tls_not_seen"));
  CHECK_EQ(RequestStore::ingest_columns().size(), 38u);
  CHECK_EQ(RequestStore::request_columns().size(), 24u);
}

}  // namespace

int main() {
  test_cells();
  test_escapes_and_normalizing();
  test_refusals();
  test_blocks();
  std::printf("%d checks, %d failures\n", ja4test::checks(), ja4test::failures());
  return ja4test::failures() == 0 ? 0 : 1;
}
