// The whole engine over real captures, run natively so the sanitizer build
// (ASan+UBSan) covers reassembly, parsing and record serialization end to
// end: the FoxIO conformance captures give the expected number of records
// and known fingerprints; truncated copies and random frames must produce a
// clean error or nothing, never a crash.
#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "check.h"
#include "engine.h"
#include "pcap_file_reader.h"

using namespace ja4;

namespace {

const std::string kShared = std::string(JA4_SOURCE_DIR) + "/../shared/conformance/foxio-ja4/pcap/";

struct ReadResult {
  ReadStatus status = ReadStatus::End;
  std::string code;
  std::string json;
  size_t records = 0;
};

ReadResult read_all(const std::string& path, size_t batch = 7) {
  ReadResult r;
  PcapFileReader reader(path, EngineConfig{});
  if (!reader.open()) {
    r.status = ReadStatus::Error;
    r.code = reader.error_code();
    return r;
  }
  for (;;) {
    std::string out;
    r.status = reader.read_batch(batch, out);
    for (char c : out) r.records += c == '\n';
    r.json += out;
    if (r.status != ReadStatus::Batch) break;
  }
  r.code = reader.error_code();
  return r;
}

bool exists(const std::string& p) { return std::ifstream(p).good(); }

void test_conformance_record_counts() {
  if (!exists(kShared + "tls12.pcap")) {
    std::printf("conformance captures not found, skipping\n");
    return;
  }
  // Records with at least one fingerprint, as FoxIO's reference lists them.
  const std::map<std::string, size_t> expected = {
      {"CVE-2018-6794.pcap", 3}, {"gre-sample.pcap", 1},  {"http1-with-cookies.pcapng", 1},
      {"http1.pcapng", 55},      {"ipv6.pcapng", 1},      {"quic-tls-handshake.pcapng", 1},
      {"single-packets.pcap", 8}, {"ssh2-malformed.pcap", 1}, {"tls-alpn-h2.pcap", 1},
      {"tls-handshake.pcapng", 79}, {"tls12.pcap", 1},    {"tls3.pcapng", 14},
  };
  for (const auto& [name, n] : expected) {
    ReadResult r = read_all(kShared + name);
    CHECK(r.status == ReadStatus::End);
    if (r.records != n) std::fprintf(stderr, "%s: %zu records, want %zu\n", name.c_str(), r.records, n);
    CHECK_EQ(r.records, n);
  }
  ReadResult tls12 = read_all(kShared + "tls12.pcap");
  CHECK(tls12.json.find("\"ja4\":\"t13d1715h2_5b57614c22b0_3d5424432f57\"") != std::string::npos);
  ReadResult quic = read_all(kShared + "quic-tls-handshake.pcapng");
  CHECK(quic.json.find("\"ja4\":\"q13d0310h3_55b375c5d22e_cd85d2d88918\"") != std::string::npos);
}

void test_truncated_copies() {
  std::string src = kShared + "ipv6.pcapng";
  if (!exists(src)) return;
  std::string bytes = ja4test::read_file(src);
  std::string tmp = "/tmp/ja4-engine-test-trunc.pcapng";
  // Every cut point: a clean status each time (End, or Error with a code).
  for (size_t cut = 0; cut < bytes.size(); cut += 37) {
    std::ofstream(tmp, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    ReadResult r = read_all(tmp);
    CHECK(r.status == ReadStatus::End || !r.code.empty());
  }
  std::remove(tmp.c_str());
  ReadResult missing = read_all("/nonexistent/file.pcap");
  CHECK_EQ(missing.code, std::string("ENOENT"));
}

void test_random_frames() {
  // Garbage frames of every link type, plus real frames with random bytes
  // flipped: the engine must survive and keep its counters consistent.
  std::mt19937 rng(1234);
  Engine engine;
  const int linktypes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
  std::vector<uint8_t> frame;
  for (int i = 0; i < 200000; ++i) {
    frame.resize(rng() % 200);
    for (auto& b : frame) b = static_cast<uint8_t>(rng());
    if (frame.size() > 14 && (i & 1)) {  // make half look like Ethernet/IPv4/TCP
      frame[12] = 0x08; frame[13] = 0x00;
      if (frame.size() > 34) { frame[14] = 0x45; frame[23] = (i & 2) ? 6 : 17; }
    }
    engine.process(linktypes[rng() % 9], frame.data(), frame.size(), int64_t(i) * 1000);
  }
  engine.finish();
  CHECK_EQ(engine.counters().packets, uint64_t(200000));
  CHECK(engine.active_flows() <= EngineConfig{}.max_flows);
  for (const FlowRecord& r : engine.ready()) CHECK(!r.src.empty());
}

// Two QUIC connections on one 5-tuple (client port 50002 to 443), each a
// ClientHello under its own DCID, the second after the first was reported:
// QUIC has no SYN, so the new DCID's ClientHello starts a new stream (the
// second connection was never fingerprinted). A synthetic capture (Python,
// sealed with the RFC 9001 keys): first.example with ALPN h3, then
// second.example with hq-interop. The two other captures come from the
// review of that rule (Python, the same sealing).
void test_quic_port_reuse() {
  ReadResult r = read_all(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/quic/two-connections-one-port.pcap");
  CHECK(r.status == ReadStatus::End);
  CHECK_EQ(r.records, size_t(2));
  CHECK(r.json.find("\"tls_server_name\":\"first.example\"") != std::string::npos);
  CHECK(r.json.find("\"tls_server_name\":\"second.example\"") != std::string::npos);
  CHECK(r.json.find("\"ja4\":\"q13d0308h3_") != std::string::npos);
  CHECK(r.json.find("\"ja4\":\"q13d0308hp_") != std::string::npos);

  // The second connection's ClientHello in two Initials, the later piece
  // first: any CRYPTO piece under a new DCID starts the new stream, so the
  // piece at offset 0 completes it there.
  ReadResult reversed = read_all(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/quic/second-connection-pieces-reversed.pcap");
  CHECK_EQ(reversed.records, size_t(2));

  // After a Retry the client's ClientHello goes under the Retry's DCID; a
  // retransmission of it after the flow was reported is the same
  // connection, not a second one (the flow keeps both DCIDs).
  ReadResult retry = read_all(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/quic/retry-then-late-retransmission.pcap");
  CHECK_EQ(retry.records, size_t(1));
  CHECK(retry.json.find("\"ja4s\":\"q130100_1301_") != std::string::npos);
}

}  // namespace

int main() {
  test_quic_port_reuse();
  test_conformance_record_counts();
  test_truncated_copies();
  test_random_frames();
  return ja4test::finish("engine_pcap_test");
}
