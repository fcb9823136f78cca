// JA4SSH / HASSH / ssh_extras against FoxIO's reference behaviour.
//
// The fixtures under fixtures/ssh/ hold every TCP packet of one stream (as
// tshark 4.0.17 decoded it) plus the reference output: which packets carry
// an "ssh" layer in tshark (S), tshark's TCP analysis verdict (A<hex>), and
// the ja4ssh / ssh_extras FoxIO's ja4 tool prints (ssh.rs fed by tshark's
// PDML). See fixtures/ssh/tools/README.md for how they were made.
#include "ssh_fingerprint.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"

using ja4::ssh::SshExtras;
using ja4::ssh::SshFingerprinter;
using ja4::ssh::TcpSegment;

namespace {

struct FixPacket {
  bool from_client = false;
  int64_t ts_ns = 0;
  uint16_t window = 0, sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint16_t flags = 0;
  uint32_t len = 0;
  std::vector<uint8_t> payload;
  bool ssh = false;
  uint32_t analysis = 0;
};

struct Fixture {
  std::vector<FixPacket> packets;
  std::vector<std::string> ja4ssh;
  std::map<std::string, std::string> extras;
};

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  if (s == "-") return out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

Fixture load(const std::string& name) {
  Fixture fx;
  std::istringstream in(
      ja4test::read_file(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/ssh/" + name));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 2 || line[0] == '#') continue;
    if (line[0] == 'E') {
      size_t a = line.find(' ', 2);
      std::string key = line.substr(2, a - 2), value = a == std::string::npos ? "" : line.substr(a + 1);
      if (key == "ja4ssh")
        fx.ja4ssh.push_back(value);
      else
        fx.extras[key] = value;
      continue;
    }
    std::istringstream is(line);
    std::string tag, dir, flags, hex, mark, an;
    FixPacket p;
    unsigned long window, sport, dport, seq, ack, len;
    long long ts;
    is >> tag >> dir >> ts >> window >> sport >> dport >> seq >> ack >> flags >> len >> hex >> mark >> an;
    p.from_client = dir == "c";
    p.ts_ns = ts;
    p.window = static_cast<uint16_t>(window);
    p.sport = static_cast<uint16_t>(sport);
    p.dport = static_cast<uint16_t>(dport);
    p.seq = static_cast<uint32_t>(seq);
    p.ack = static_cast<uint32_t>(ack);
    p.flags = static_cast<uint16_t>(std::stoul(flags, nullptr, 16));
    p.len = static_cast<uint32_t>(len);
    p.payload = unhex(hex);
    p.ssh = mark == "S";
    if (an.size() > 1 && an[0] == 'A') p.analysis = static_cast<uint32_t>(std::stoul(an.substr(1), nullptr, 16));
    fx.packets.push_back(std::move(p));
  }
  return fx;
}

TcpSegment segment(const FixPacket& p) {
  TcpSegment s;
  s.from_client = p.from_client;
  s.src_port = p.sport;
  s.dst_port = p.dport;
  s.ts_ns = p.ts_ns;
  s.seq = p.seq;
  s.ack = p.ack;
  s.flags = p.flags;
  s.window = p.window;
  s.payload_len = p.len;
  s.payload = p.payload.data();
  s.captured_len = p.payload.size();
  return s;
}

void check_output(const char* name, const SshFingerprinter& fp, const Fixture& fx) {
  std::fprintf(stderr, "-- %s\n", name);
  CHECK_EQ(fp.ja4ssh().size(), fx.ja4ssh.size());
  for (size_t i = 0; i < fx.ja4ssh.size() && i < fp.ja4ssh().size(); ++i)
    CHECK_EQ(fp.ja4ssh()[i], fx.ja4ssh[i]);
  auto want = [&](const char* key) {
    auto it = fx.extras.find(key);
    return it == fx.extras.end() ? std::string() : it->second;
  };
  const SshExtras& x = fp.extras();
  CHECK_EQ(fp.has_extras(), !fx.extras.empty());
  CHECK_EQ(x.hassh, want("hassh"));
  CHECK_EQ(x.hassh_server, want("hassh_server"));
  CHECK_EQ(x.ssh_protocol_client, want("ssh_protocol_client"));
  CHECK_EQ(x.ssh_protocol_server, want("ssh_protocol_server"));
  CHECK_EQ(x.encryption_algorithm, want("encryption_algorithm"));
}

// Replays a fixture packet by packet and compares everything tshark showed.
SshFingerprinter replay(const char* name, const Fixture& fx) {
  SshFingerprinter fp;
  int layer_diffs = 0, analysis_diffs = 0;
  for (size_t i = 0; i < fx.packets.size(); ++i) {
    const FixPacket& p = fx.packets[i];
    fp.on_segment(segment(p));
    if (fp.last_packet_was_ssh() != p.ssh) {
      if (++layer_diffs <= 5)
        std::fprintf(stderr, "%s: packet %zu: ssh layer %d, tshark %d\n", name, i + 1,
                     fp.last_packet_was_ssh(), p.ssh);
    }
    if (fp.last_analysis() != p.analysis) {
      if (++analysis_diffs <= 5)
        std::fprintf(stderr, "%s: packet %zu: analysis %x, tshark %x\n", name, i + 1,
                     fp.last_analysis(), p.analysis);
    }
  }
  CHECK_EQ(layer_diffs, 0);
  CHECK_EQ(analysis_diffs, 0);
  fp.finish();
  check_output(name, fp, fx);
  return fp;
}

void test_fixtures() {
  const char* names[] = {"ssh2-malformed.fix", "gre-sample.fix", "openssh-gex-aes128ctr.fix",
                         "openssh-interactive-3windows.fix", "openssh-same-ip.fix",
                         "tcp-edges.fix", "truncated-capture.fix"};
  for (const char* name : names) {
    Fixture fx = load(name);
    CHECK(!fx.packets.empty());
    replay(name, fx);
  }
}

// The values FoxIO's ja4 prints for the conformance captures, spelled out.
void test_conformance_values() {
  {
    SshFingerprinter fp = replay("ssh2-malformed (values)", load("ssh2-malformed.fix"));
    CHECK_EQ(fp.ja4ssh().size(), size_t(1));
    if (!fp.ja4ssh().empty()) CHECK_EQ(fp.ja4ssh()[0], std::string("c16s23_c7s5_c3s4"));
    CHECK_EQ(fp.extras().hassh, std::string("21b457a327ce7a2d4fce5ef2c42400bd"));
    CHECK_EQ(fp.extras().hassh_server, std::string("f430cd6761697a6a658ee1d45ed22e49"));
    CHECK_EQ(fp.extras().ssh_protocol_client, std::string("SSH-2.0-OpenSSH_5.3"));
    CHECK_EQ(fp.extras().ssh_protocol_server, std::string("SSH-1.99-OpenSSH_3.9p1"));
    CHECK_EQ(fp.extras().encryption_algorithm, std::string("aes128-cbc"));
  }
  {
    SshFingerprinter fp = replay("gre-sample (values)", load("gre-sample.fix"));
    CHECK_EQ(fp.ja4ssh().size(), size_t(1));
    if (!fp.ja4ssh().empty()) CHECK_EQ(fp.ja4ssh()[0], std::string("c24s23_c4s4_c6s4"));
    CHECK_EQ(fp.extras().hassh, std::string("5ef6678a6b060094834599ca16581b05"));
    CHECK_EQ(fp.extras().hassh_server, std::string("6e3242d64766f4154c11858bbd654415"));
    CHECK_EQ(fp.extras().ssh_protocol_client, std::string("SSH-2.0-OpenSSH_3.6.1p1"));
    CHECK_EQ(fp.extras().ssh_protocol_server, std::string("SSH-1.99-OpenSSH_3.1p1"));
    CHECK_EQ(fp.extras().encryption_algorithm, std::string("aes128-cbc"));
  }
  {
    // Snaplen-truncated client KEXINIT: tshark shows the banner but throws at
    // the "Key Exchange" subtree, so no hassh and no client list (hence no
    // encryption_algorithm); the exception in the KEXDH reply hides the
    // server's NEWKEYS, so its later KEXINIT is dissected and wins.
    SshFingerprinter fp = replay("truncated-capture (values)", load("truncated-capture.fix"));
    CHECK_EQ(fp.ja4ssh().size(), size_t(1));
    if (!fp.ja4ssh().empty()) CHECK_EQ(fp.ja4ssh()[0], std::string("c68s68_c3s5_c9s7"));
    CHECK_EQ(fp.extras().hassh, std::string());
    CHECK_EQ(fp.extras().hassh_server, std::string("3b170adc1f55e8746aa1bc8d32e38f6b"));
    CHECK_EQ(fp.extras().ssh_protocol_client, std::string("SSH-2.0-trunc_client"));
    CHECK_EQ(fp.extras().ssh_protocol_server, std::string("SSH-2.0-OpenSSH_7.4"));
    CHECK_EQ(fp.extras().encryption_algorithm, std::string());
  }
}

// The fallback API (packet, then the bytes released after it) gives the same
// result on captures without retransmissions.
void test_fallback_api() {
  for (const char* name : {"ssh2-malformed.fix", "gre-sample.fix", "openssh-gex-aes128ctr.fix"}) {
    Fixture fx = load(name);
    SshFingerprinter fp;
    for (const FixPacket& p : fx.packets) {
      fp.on_packet(p.from_client, p.len, p.flags);
      // Feed the bytes in small chunks, as a reassembler may.
      for (size_t off = 0; off < p.payload.size(); off += 7)
        fp.on_stream_data(p.from_client, p.payload.data() + off,
                          std::min<size_t>(7, p.payload.size() - off));
    }
    fp.finish();
    check_output(name, fp, fx);
  }
}

// --- Hand-made flows --------------------------------------------------------

struct Flow {
  SshFingerprinter fp;
  uint32_t seq[2] = {1000, 50000};
  int64_t ts = 0;
  explicit Flow(size_t sample = SshFingerprinter::kDefaultSampleSize, size_t max_windows = 1024,
                uint16_t sport = 22)
      : fp(sample, max_windows), server_port(sport) {}
  uint16_t server_port;
  void pkt(bool client, uint16_t flags, const std::string& data = std::string()) {
    TcpSegment s;
    s.from_client = client;
    s.src_port = client ? 40000 : server_port;
    s.dst_port = client ? server_port : 40000;
    s.ts_ns = (ts += 1000000);
    s.seq = seq[client ? 0 : 1];
    s.ack = seq[client ? 1 : 0];
    s.flags = flags;
    s.window = 65535;
    s.payload_len = static_cast<uint32_t>(data.size());
    s.payload = reinterpret_cast<const uint8_t*>(data.data());
    s.captured_len = data.size();
    fp.on_segment(s);
    seq[client ? 0 : 1] += static_cast<uint32_t>(data.size()) + ((flags & 0x003) ? 1 : 0);
  }
  void handshake() {
    pkt(true, 0x002);
    pkt(false, 0x012);
    pkt(true, 0x010);
  }
};

std::string u32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}
std::string sstr(const std::string& v) { return u32(static_cast<uint32_t>(v.size())) + v; }
// An unencrypted SSH binary packet.
std::string sshpkt(const std::string& payload) {
  size_t pad = 8 - (payload.size() + 5) % 8;
  if (pad < 4) pad += 8;
  return u32(static_cast<uint32_t>(payload.size() + pad + 1)) + std::string(1, static_cast<char>(pad)) +
         payload + std::string(pad, '\0');
}
std::string kexinit(const std::string& kex, const std::string& enc_cs, const std::string& enc_sc,
                    const std::string& mac = "hmac-sha2-256", const std::string& comp = "none") {
  return sshpkt(std::string(1, '\x14') + std::string(16, '\x11') + sstr(kex) + sstr("ssh-ed25519") +
                sstr(enc_cs) + sstr(enc_sc) + sstr(mac) + sstr(mac) + sstr(comp) + sstr(comp) +
                sstr("") + sstr("") + std::string(5, '\0'));
}

// ssh.rs: "If there is a collision, we choose the smaller byte value", and
// its own test vectors.
void test_mode_tie_break() {
  Flow f;
  f.handshake();
  f.pkt(false, 0x018, "SSH-2.0-S\r\n");
  f.pkt(true, 0x018, "SSH-2.0-C\r\n");  // lengths 11 and 11: both sides tie later
  f.pkt(true, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr"));
  f.pkt(false, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr"));
  f.pkt(true, 0x018, sshpkt("\x15"));
  f.pkt(false, 0x018, sshpkt("\x15"));
  for (int len : {21, 16, 64, 144, 24, 48, 792}) f.pkt(true, 0x018, std::string(len, 'x'));
  for (int len : {23, 152, 48, 640, 464}) f.pkt(false, 0x018, std::string(len, 'y'));
  f.fp.finish();
  CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));
  // Client lengths 11, 176, 16, 21, 16, 64, 144, 24, 48, 792: 16 twice.
  // Server lengths 11, 176, 16, 23, 152, 48, 640, 464: all once -> 11.
  if (!f.fp.ja4ssh().empty()) CHECK_EQ(f.fp.ja4ssh()[0], std::string("c16s11_c10s8_c1s0"));
}

// Windows: exactly sample_size SSH packets, ACKs do not count towards it, a
// trailing window made only of ACKs is not emitted, 0 means 200.
void test_windows() {
  {
    Flow f(10);
    f.handshake();                                   // the handshake ACK counts
    for (int i = 0; i < 10; ++i) f.pkt(i % 2 == 0, 0x018, std::string(36, 'a'));
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));      // emitted at the 10th SSH packet
    for (int i = 0; i < 5; ++i) f.pkt(true, 0x010);  // ACK-only tail
    f.fp.finish();
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));
    if (!f.fp.ja4ssh().empty()) CHECK_EQ(f.fp.ja4ssh()[0], std::string("c36s36_c5s5_c1s0"));
  }
  {
    Flow f(10);
    f.handshake();
    for (int i = 0; i < 10; ++i) f.pkt(true, 0x018, std::string(36, 'a'));
    f.pkt(false, 0x018, std::string(52, 'b'));       // one SSH packet: a partial window
    f.fp.finish();
    f.fp.finish();                                   // idempotent
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(2));
    if (f.fp.ja4ssh().size() == 2) {
      CHECK_EQ(f.fp.ja4ssh()[0], std::string("c36s0_c10s0_c1s0"));
      CHECK_EQ(f.fp.ja4ssh()[1], std::string("c0s52_c0s1_c0s0"));
    }
  }
  {
    Flow f(0);  // FoxIO turns 0 into 200
    f.handshake();
    for (int i = 0; i < 199; ++i) f.pkt(true, 0x018, std::string(36, 'a'));
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(0));
    f.pkt(true, 0x018, std::string(36, 'a'));
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));
  }
  {
    Flow f(2, 3);  // at most 3 windows kept
    f.handshake();
    for (int i = 0; i < 20; ++i) f.pkt(true, 0x018, std::string(36, 'a'));
    f.fp.finish();
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(3));
    CHECK_EQ(f.fp.dropped_windows(), size_t(7));
  }
}

// Only tcp.flags == 0x010 (ACK alone, AE/NS and reserved bits included in
// the comparison) counts as an ACK, and only on packets without an ssh layer.
void test_ack_flags() {
  Flow f(4);
  f.handshake();                       // client ACK: 1
  f.pkt(false, 0x010);                 // server ACK: 1
  f.pkt(false, 0x110);                 // ACK + AE: not counted
  f.pkt(false, 0x011);                 // FIN/ACK: not counted
  f.pkt(false, 0x018);                 // PSH/ACK without payload: not counted
  f.pkt(false, 0x010, "SSH-2.0-x\r\n");  // ACK-only flags but an ssh layer: SSH packet
  for (int i = 0; i < 3; ++i) f.pkt(true, 0x010, std::string(100, 'z'));  // version unknown: ssh layer
  CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));
  if (!f.fp.ja4ssh().empty()) CHECK_EQ(f.fp.ja4ssh()[0], std::string("c100s11_c3s1_c1s1"));
}

// encryption_algorithm (ssh.rs): the first algorithm of the server's
// server-to-client list that is in the client's client-to-server list, and
// only if the client's KEXINIT was seen first.
void test_encryption_algorithm() {
  {
    Flow f;
    f.handshake();
    f.pkt(false, 0x018, "SSH-2.0-S\r\n");
    f.pkt(true, 0x018, "SSH-2.0-C\r\n");
    f.pkt(true, 0x018, kexinit("curve25519-sha256", "aes256-ctr,aes128-ctr,chacha20", "x"));
    f.pkt(false, 0x018, kexinit("curve25519-sha256", "y", "chacha20,aes128-ctr"));
    f.fp.finish();
    CHECK_EQ(f.fp.extras().encryption_algorithm, std::string("chacha20"));
    // HASSH = MD5("kex;enc;mac;comp") of the sending direction's lists
    // (values from tshark's ssh.kex.hassh / ssh.kex.hasshserver).
    CHECK_EQ(f.fp.extras().hassh, std::string("2cbc4bf0e9b761bb01c5b9fb98f911a2"));
    CHECK_EQ(f.fp.extras().hassh_server, std::string("ff371f292b63645b6d759c85a9d9beb3"));
  }
  {
    Flow f;
    f.handshake();
    f.pkt(false, 0x018, "SSH-2.0-S\r\n");
    f.pkt(true, 0x018, "SSH-2.0-C\r\n");
    f.pkt(false, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr"));  // server first
    f.pkt(true, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr"));
    f.fp.finish();
    CHECK_EQ(f.fp.extras().encryption_algorithm, std::string());
    CHECK(f.fp.has_extras());
  }
}

// HASSH of a minimal KEXINIT: md5("curve25519-sha256;aes128-ctr;hmac-sha2-256;none").
void test_hassh_value() {
  Flow f;
  f.handshake();
  f.pkt(false, 0x018, "SSH-2.0-S\r\n");
  f.pkt(true, 0x018, "SSH-2.0-C\r\n");
  f.pkt(true, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "none"));
  f.fp.finish();
  CHECK_EQ(f.fp.extras().hassh, std::string("e97d07603350d1111ec2b64bf25413c9"));
  CHECK_EQ(f.fp.extras().hassh_server, std::string());
}

// Banner fields as FoxIO prints them: tshark's PDML "show" (ASCII, NUL ends
// the string, XML-escaped, control characters as \x..).
void test_banner_escaping() {
  Flow f;
  f.handshake();
  f.pkt(false, 0x018, std::string("SSH-2.0-a&b<c>\"d'e\x01\x1f\x7f\xc3\xa9\tz\r\n"));
  f.pkt(true, 0x018, std::string("SSH-2.0-B\0C\r\n", 13));
  f.fp.finish();
  CHECK_EQ(f.fp.extras().ssh_protocol_server,
           std::string("SSH-2.0-a&amp;b&lt;c&gt;&quot;d&#x27;e\\x1\\x1f\\x7f\xEF\xBF\xBD\xEF\xBF\xBD\tz"));
  CHECK_EQ(f.fp.extras().ssh_protocol_client, std::string("SSH-2.0-B"));
}

// tshark decodes SSH on TCP port 22 (and 29418) only.
void test_ports() {
  {
    Flow f(200, 1024, 2222);
    f.handshake();
    f.pkt(false, 0x018, "SSH-2.0-S\r\n");
    f.pkt(true, 0x018, "SSH-2.0-C\r\n");
    f.fp.finish();
    CHECK(f.fp.ja4ssh().empty());
    CHECK(!f.fp.has_extras());
  }
  {
    Flow f(200, 1024, 29418);
    f.handshake();
    f.pkt(false, 0x018, "SSH-2.0-S\r\n");
    f.fp.finish();
    CHECK_EQ(f.fp.ja4ssh().size(), size_t(1));
    CHECK_EQ(f.fp.extras().ssh_protocol_server, std::string("SSH-2.0-S"));
  }
}

// A banner split over two segments: tshark's request for "the rest of the
// line" wraps around, the next segment is dissected on its own, and the
// client banner is never seen (so the version stays unknown).
void test_split_banner() {
  Flow f;
  f.handshake();
  f.pkt(false, 0x018, "SSH-2.0-S\r\n");
  f.pkt(true, 0x018, "SSH-2.0-Open");
  CHECK(f.fp.last_packet_was_ssh());
  f.pkt(true, 0x018, "SSH_7.4\r\n");
  CHECK(f.fp.last_packet_was_ssh());
  f.pkt(true, 0x018, kexinit("curve25519-sha256", "aes128-ctr", "aes128-ctr"));
  f.fp.finish();
  CHECK_EQ(f.fp.extras().ssh_protocol_client, std::string());
  CHECK_EQ(f.fp.extras().hassh, std::string());  // dissected as "encrypted"
}

// Random input of every kind never crashes, and memory stays bounded.
void test_garbage() {
  std::mt19937 rng(12345);
  auto rnd = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  std::vector<uint8_t> noise(200000);
  for (uint8_t& b : noise) b = static_cast<uint8_t>(rng());
  size_t over_budget = 0;
  for (int round = 0; round < 30; ++round) {
    SshFingerprinter fp(1 + rnd(300), 64);
    std::vector<uint8_t> buf(70000);
    uint32_t seq[2] = {static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng())};
    const int packets = 3000 + static_cast<int>(rnd(5000));
    for (int i = 0; i < packets; ++i) {
      const int side = static_cast<int>(rnd(2));
      const uint32_t len = rnd(10) == 0 ? rnd(65536) : rnd(400);
      std::memcpy(buf.data(), noise.data() + rnd(static_cast<uint32_t>(noise.size() - 65536)), len);
      if (i < 40 && len > 8 && rnd(2) == 0) {
        // plausible SSH framing with random lengths
        std::memcpy(buf.data(), rnd(2) ? "SSH-2.0-" : "\x7f\xff\xff\xf0\x05\x14\x00\x00", 8);
      }
      TcpSegment s;
      s.from_client = side == 0;
      s.side = static_cast<int8_t>(static_cast<int>(rnd(3)) - 1);
      s.src_port = side == 0 ? 40000 : 22;
      s.dst_port = side == 0 ? 22 : 40000;
      s.ts_ns = static_cast<int64_t>(i) * 1000 - static_cast<int64_t>(rnd(3000));
      switch (rnd(6)) {
        case 0: s.seq = seq[side] - rnd(2000); break;                   // old data
        case 1: s.seq = seq[side] + rnd(5000); break;                   // gap
        case 2: s.seq = static_cast<uint32_t>(rng()); break;            // nonsense
        default: s.seq = seq[side]; seq[side] += len;
      }
      s.ack = rnd(4) == 0 ? static_cast<uint32_t>(rng()) : seq[side ^ 1] - rnd(100);
      s.flags = static_cast<uint16_t>(rnd(8) == 0 ? rnd(0x1000) : (0x010 | (rnd(2) ? 0x008 : 0)));
      s.window = static_cast<uint16_t>(rnd(10) == 0 ? 0 : 65535);
      s.payload_len = len;
      s.payload = buf.data();
      s.captured_len = rnd(20) == 0 ? rnd(len + 1) : len;
      fp.on_segment(s);
      if (fp.buffered_bytes() > 3 * SshFingerprinter::kMaxPduBytes) ++over_budget;
    }
    fp.finish();
    CHECK(fp.ja4ssh().size() <= 64);
  }
  // The fallback API with random bytes.
  for (int round = 0; round < 10; ++round) {
    SshFingerprinter fp(200, 16);
    for (int i = 0; i < 10000; ++i) {
      const bool client = rnd(2) == 0;
      const uint32_t len = rnd(3000);
      const uint8_t* data = noise.data() + rnd(static_cast<uint32_t>(noise.size() - 3000));
      if (rnd(3)) fp.on_packet(client, rnd(4) == 0 ? static_cast<uint32_t>(rng()) : len,
                               static_cast<uint16_t>(rnd(0x1000)));
      if (rnd(3)) fp.on_stream_data(rnd(5) == 0 ? !client : client, data, len);
      if (fp.buffered_bytes() > 3 * SshFingerprinter::kMaxPduBytes) ++over_budget;
    }
    fp.finish();
    CHECK(fp.ja4ssh().size() <= 16);
  }
  CHECK_EQ(over_budget, size_t(0));
  // Calls after finish() are ignored.
  SshFingerprinter fp;
  fp.finish();
  fp.on_packet(true, 10, 0x018);
  fp.on_stream_data(true, reinterpret_cast<const uint8_t*>("SSH-2.0-x\r\n"), 11);
  fp.on_segment(TcpSegment());
  CHECK(fp.ja4ssh().empty());
  CHECK(!fp.has_extras());
}

}  // namespace

int main() {
  test_fixtures();
  test_conformance_values();
  test_fallback_api();
  test_mode_tie_break();
  test_windows();
  test_ack_flags();
  test_encryption_algorithm();
  test_hassh_value();
  test_banner_escaping();
  test_ports();
  test_split_banner();
  test_garbage();
  return ja4test::finish("ssh_fingerprint_test");
}
