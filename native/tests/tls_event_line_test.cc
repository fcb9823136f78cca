// The native TLS event reader (tls_event_line.h): the join's facts and the
// exact TLS column bytes of a flow, a close, and the lines it must leave
// to the JavaScript reader. That every accepted line decodes as JSON.parse
// + toTlsInput + encodeNativeTls would is checked from JavaScript
// (test/correlator-native-tls.test.ts), against the reader itself; that
// the request store takes the bytes, here.
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "request_blocks.h"
#include "tls_event_line.h"

using namespace ja4::tlsevent;

namespace {

const char* kFlow =
    R"({"event":"flow","stream":0,"transport":"tcp","src":"10.0.0.1","dst":"192.0.2.10","src_port":1025,)"
    R"("dst_port":443,"first_ts_us":1700000000000020,"last_ts_us":1700000000005020,"packets":8,"closed":false,)"
    R"("tls_server_name":"site1.example","ja4":"t13d1715h2_5b57614c22b0_3d5424432f57","ja4_r":"r","ja4_o":"o",)"
    R"("ja4_ro":"x","ja3":"cd08e31494f9531f560d64c695473da9","ja3_r":"x","tls_version":"13","alpn":"h2",)"
    R"("ja4s":"t130200_1301_234ea6891581","ja4s_r":"x","ja3s":"x","ja3s_r":"x","ja4t":"64240_2-4-8-1-3_1460_7",)"
    R"("ja4ts":"65160_2-4-8-1-3_1460_7","ja4l_c":"35_64","ja4l_s":"30_64","client_ttl":64,)"
    R"("tls_certs":[{"x509":[{"ja4x":"a_b_c","subject":{"CN":"x"}},{"ja4x":"d_e_f"}]}]})";

const char* kClose =
    R"({"event":"close","stream":0,"transport":"tcp","src":"2001:DB8::1","dst":"::ffff:192.0.2.10","src_port":1025,)"
    R"("dst_port":443,"first_ts_us":1700000000000020,"last_ts_us":1700000001000000,"reason":"rst"})";

std::string str(std::string_view s) {
  std::string out(1, static_cast<char>(s.size()));  // short strings: a one-byte length
  out.append(s);
  return out;
}


bool parses(Parser& p, const std::string& line, Line& out) { return p.parse(line.data(), line.size(), out); }

void test_flow() {
  Parser p;
  Line e;
  CHECK(p.parse(kFlow, std::strlen(kFlow), e));
  CHECK(e.kind == Kind::kFlow);
  CHECK_EQ(e.src, std::string("10.0.0.1"));
  CHECK_EQ(e.dst, std::string("192.0.2.10"));
  CHECK_EQ(e.src_port, 1025u);
  CHECK_EQ(e.dst_port, 443u);
  CHECK_EQ(e.first_ts_us, 1700000000000020ULL);
  CHECK_EQ(e.last_ts_us, 1700000000005020ULL);
  CHECK(!e.udp);
  CHECK(!e.closed);
  // the blob, field by field, as encodeNativeTls writes it
  std::string want = str("site1.example");
  const char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\xff', '\xff', '\xc0', 0, 2, 10};
  want.append(mapped, 16);
  want += std::string("\xbb\x01", 2);      // 443
  want += '\x40';                          // ttl 64
  want += std::string("\x02\0\0\0", 4);    // two ja4x
  want += str("13") + str("h2") + str("t13d1715h2_5b57614c22b0_3d5424432f57") + str("r") + str("o") +
          str("cd08e31494f9531f560d64c695473da9") + str("t130200_1301_234ea6891581") + str("64240_2-4-8-1-3_1460_7") +
          str("65160_2-4-8-1-3_1460_7") + str("35_64") + str("30_64");
  want += str("a_b_c") + str("d_e_f");
  CHECK_EQ(e.blob, want);
  // the store takes it as a connection's columns
  ja4::reqin::RequestStore st;
  CHECK(st.add_tls(reinterpret_cast<const uint8_t*>(e.blob.data()), e.blob.size()) >= 0);

  // absent strings are '', absent times 0 and first, absent ttl 0; no event key is a flow
  std::string bare = R"({"transport":"udp","src":"10.0.0.1","dst":"2001:db8::10","src_port":1,"dst_port":443,"first_ts_us":5,"closed":true})";
  CHECK(parses(p, bare, e));
  CHECK(e.kind == Kind::kFlow);
  CHECK(e.udp);
  CHECK(e.closed);
  CHECK_EQ(e.last_ts_us, 5ULL);
  CHECK_EQ(e.blob.size(), 1u + 16 + 2 + 1 + 4 + 11);
  CHECK(st.add_tls(reinterpret_cast<const uint8_t*>(e.blob.data()), e.blob.size()) >= 0);
  // escapes decoded, as JSON.parse then the UTF-8 encoder give them
  CHECK(parses(p, ja4test::edited(kFlow, R"("alpn":"h2")", R"("alpn":"\"\\\/\u00e9\ud83d\ude00\u0000")"), e));
  CHECK(e.blob.find(str("\"\\/\xc3\xa9\xf0\x9f\x98\x80" + std::string(1, '\0'))) != std::string::npos);
  // certificates: chains that are arrays, lists that are not, certificates that are not objects, non-string ja4x: skipped
  CHECK(parses(p, ja4test::edited(kFlow, R"([{"x509":[{"ja4x":"a_b_c","subject":{"CN":"x"}},{"ja4x":"d_e_f"}]}])", R"([[1],{"x509":null},{"x509":[1,"s",{"ja4x":5},{"ja4x":"g"}]}])"), e));
  CHECK(e.blob.substr(e.blob.size() - 2) == str("g"));
}

void test_close() {
  Parser p;
  Line e;
  CHECK(p.parse(kClose, std::strlen(kClose), e));
  CHECK(e.kind == Kind::kClose);
  CHECK(e.reason == CloseReason::kRst);
  CHECK_EQ(e.src, std::string("2001:db8::1"));  // normalizeIp: lowercased
  CHECK_EQ(e.dst, std::string("192.0.2.10"));   // and "::ffff:" before a dotted quad cut
  CHECK_EQ(e.last_ts_us, 1700000001000000ULL);
  CHECK(e.blob.empty());
  const std::pair<const char*, CloseReason> reasons[] = {
      {"fin", CloseReason::kFin}, {"idle", CloseReason::kIdle}, {"evicted", CloseReason::kEvicted}};
  for (const auto& [name, want] : reasons) {
    CHECK(parses(p, ja4test::edited(kClose, R"("reason":"rst")", std::string(R"("reason":")") + name + "\""), e));
    CHECK(e.reason == want);
  }
}

// What the reader must leave to JSON.parse + toTlsInput (which accepts some
// and counts the others): never decided here.
void test_refusals() {
  Parser p;
  Line e;
  const std::vector<std::pair<std::string, std::string>> edits = {
      {R"("src_port":1025)", R"("src_port":1025.0)"},           // an integer to JSON.parse
      {R"("src_port":1025)", R"("src_port":1e3)"},
      {R"("src_port":1025)", R"("src_port":70000)"},            // out of range
      {R"("src_port":1025)", R"("src_port":"1025")"},
      {R"("dst_port":443)", R"("dst_port":443,"dst_port":444)"},  // duplicate key: JSON.parse keeps the last
      {R"("event":"flow")", R"("event":"FLOW")"},
      {R"("event":"flow")", R"("event":null)"},
      {R"("transport":"tcp")", R"("transport":"sctp")"},
      {R"("transport":"tcp",)", ""},                           // required
      {R"("src":"10.0.0.1")", R"("src":"10.0.0.01")"},
      {R"("src":"10.0.0.1")", R"("src":"fe80::1%eth0")"},       // a zone: JavaScript's decision
      {R"("dst":"192.0.2.10")", R"("dst":"")"},
      {R"("src":"10.0.0.1")", R"("src":"::1\u0000junk")"},      // inet_pton stops at a NUL; isIP does not
      {R"("dst":"192.0.2.10")", R"("dst":"2001:db8::1\u0000")"},
      {R"("first_ts_us":1700000000000020)", R"("first_ts_us":null)"},  // toTlsInput's ?? makes it 0: its decision
      {R"("first_ts_us":1700000000000020)", R"("first_ts_us":9007199254740992)"},
      {R"("client_ttl":64)", R"("client_ttl":256)"},
      {R"("client_ttl":64)", R"("client_ttl":null)"},
      {R"("tls_server_name":"site1.example")", R"("tls_server_name":null)"},
      {R"("tls_server_name":"site1.example")", R"("tls_server_name":"\ud800")"},  // lone surrogate
      {R"("tls_server_name":"site1.example")", "\"tls_server_name\":\"\xff\""},   // invalid UTF-8
      {R"("ja3s_r":"x")", R"("ja3s_r":1)"},
      {R"("tls_certs":[)", R"("tls_certs":null,"x":[)"},
      {R"("tls_certs":[)", R"("tls_certs":[null,)"},
      {R"({"ja4x":"d_e_f"})", R"({"ja4x":"d","ja4x":"e"})"},   // duplicate ja4x
      {R"("packets":8)", R"("packets":08)"},                    // not JSON
  };
  CHECK(parses(p, kFlow, e));
  for (const auto& [from, to] : edits) {
    std::string line = ja4test::edited(kFlow, from, to);
    if (parses(p, line, e)) std::printf("accepted: %s\n", line.c_str());
    CHECK(!parses(p, line, e));
  }
  const std::vector<std::pair<std::string, std::string>> close_edits = {
      {R"("reason":"rst")", R"("reason":"RST")"},
      {R"("reason":"rst")", R"("reason":null)"},
      {R"(,"reason":"rst")", ""},
  };
  for (const auto& [from, to] : close_edits) CHECK(!parses(p, ja4test::edited(kClose, from, to), e));
  for (const char* junk : {"", "{}", "[1]", "{\"src\":1", "not json", "\xef\xbb\xbf{}"}) CHECK(!parses(p, junk, e));
  CHECK(!parses(p, std::string(kFlow) + "x", e));
  CHECK(parses(p, std::string(kFlow) + " \r", e));
}

}  // namespace

int main() {
  test_flow();
  test_close();
  test_refusals();
  std::printf("%d checks, %d failures\n", ja4test::checks(), ja4test::failures());
  return ja4test::failures() == 0 ? 0 : 1;
}
