// Tests for QUIC Initial decryption and CRYPTO reassembly (quic_initial.h):
// the RFC 9001 / RFC 9369 Appendix A vectors, a real Chrome Initial, packets
// built here (coalesced, reordered, overlapping, Retry), and garbage.
#include "quic_initial.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "byte_reader.h"
#include "check.h"

using ja4::quic::FeedResult;
using ja4::quic::InitialKeys;
using ja4::quic::InitialReassembler;
using ja4::quic::Side;
using Bytes = std::vector<uint8_t>;

namespace ja4test {
inline std::string show(FeedResult r) { return ja4::quic::to_string(r); }
}  // namespace ja4test

namespace {

Bytes unhex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

// One datagram per non-comment line.
std::vector<Bytes> load_datagrams(const char* name) {
  std::string text = ja4test::read_file(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/quic/" + name);
  std::vector<Bytes> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line[0] != '#') out.push_back(unhex(line));
    pos = nl + 1;
  }
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void put_varint(Bytes& out, uint64_t v) {
  if (v < 64) {
    out.push_back(uint8_t(v));
  } else if (v < 16384) {
    out.push_back(uint8_t(0x40 | v >> 8));
    out.push_back(uint8_t(v));
  } else {
    out.push_back(uint8_t(0x80 | v >> 24));
    out.push_back(uint8_t(v >> 16));
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
  }
}

Bytes crypto_frame(uint64_t offset, const Bytes& stream, size_t from, size_t len) {
  Bytes f{0x06};
  put_varint(f, offset);
  put_varint(f, len);
  f.insert(f.end(), stream.begin() + from, stream.begin() + from + len);
  return f;
}

uint32_t rng_state = 0x9e3779b9;
uint32_t rnd() {  // xorshift32: deterministic across runs
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
Bytes random_bytes(size_t n) {
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rnd());
  return b;
}

InitialKeys keys(uint32_t version, const Bytes& dcid, Side side) {
  InitialKeys k{};
  CHECK(ja4::quic::derive_initial_keys(version, dcid.data(), dcid.size(), side, &k));
  return k;
}

// Builds a protected long-header packet the way a sender does (RFC 9001 5.3
// then 5.4), independently of the code under test except for the keys, which
// the RFC vectors check. type_bits are the wire bits, e.g. 0 for a v1
// Initial, 1 for a v2 Initial; the Token field is written for Initial only.
Bytes seal(uint32_t version, uint8_t type_bits, bool initial, const InitialKeys& k, const Bytes& dcid,
           const Bytes& scid, uint64_t pn, size_t pn_len, const Bytes& payload) {
  Bytes p{uint8_t(0xc0 | type_bits << 4 | (pn_len - 1)), uint8_t(version >> 24), uint8_t(version >> 16),
          uint8_t(version >> 8), uint8_t(version)};
  p.push_back(uint8_t(dcid.size()));
  p.insert(p.end(), dcid.begin(), dcid.end());
  p.push_back(uint8_t(scid.size()));
  p.insert(p.end(), scid.begin(), scid.end());
  if (initial) p.push_back(0);  // Token Length
  const size_t length = pn_len + payload.size() + 16;
  p.push_back(uint8_t(0x40 | length >> 8));  // always the 2-byte varint, as the RFC samples do
  p.push_back(uint8_t(length));
  const size_t pn_offset = p.size();
  for (size_t i = pn_len; i-- > 0;) p.push_back(uint8_t(pn >> (8 * i)));

  uint8_t nonce[12];
  std::memcpy(nonce, k.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= uint8_t(pn >> (8 * i));
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  Bytes ct(payload.size() + 16);
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key, nonce);
  EVP_EncryptUpdate(c, nullptr, &n, p.data(), int(p.size()));
  if (!payload.empty()) EVP_EncryptUpdate(c, ct.data(), &n, payload.data(), int(payload.size()));
  EVP_EncryptFinal_ex(c, ct.data() + payload.size(), &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct.data() + payload.size());
  EVP_CIPHER_CTX_free(c);
  p.insert(p.end(), ct.begin(), ct.end());

  uint8_t mask[32];
  c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, k.hp, nullptr);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, mask, &n, p.data() + pn_offset + 4, 16);
  EVP_CIPHER_CTX_free(c);
  p[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < pn_len; ++i) p[pn_offset + i] ^= mask[1 + i];
  return p;
}

// An unprotected stand-in for a 0-RTT or Handshake packet: only its header
// matters to the reassembler, which must skip it by its Length.
Bytes opaque_long(uint32_t version, uint8_t type_bits, const Bytes& dcid, size_t body) {
  Bytes p{uint8_t(0xc0 | type_bits << 4), uint8_t(version >> 24), uint8_t(version >> 16), uint8_t(version >> 8),
          uint8_t(version)};
  p.push_back(uint8_t(dcid.size()));
  p.insert(p.end(), dcid.begin(), dcid.end());
  p.push_back(0);
  put_varint(p, body);
  Bytes b = random_bytes(body);
  p.insert(p.end(), b.begin(), b.end());
  return p;
}

FeedResult feed(InitialReassembler& r, const Bytes& d) { return r.feed(d.data(), d.size()); }

// Walks a ClientHello to its server_name; empty when it does not parse.
std::string client_hello_sni(std::string_view hs) {
  ja4::ByteReader r(reinterpret_cast<const uint8_t*>(hs.data()), hs.size());
  if (r.u8() != 0x01) return {};
  ja4::ByteReader body = r.sub(r.u24());
  if (!r.ok() || !r.empty()) return {};
  body.skip(2 + 32);
  body.skip(body.u8());
  body.skip(body.u16());
  body.skip(body.u8());
  ja4::ByteReader exts = body.sub(body.u16());
  while (exts.ok() && !exts.empty()) {
    const uint16_t type = exts.u16();
    ja4::ByteReader ext = exts.sub(exts.u16());
    if (type != 0) continue;
    ja4::ByteReader list = ext.sub(ext.u16());
    if (list.u8() != 0) return {};
    std::string_view name = list.bytes(list.u16());
    return list.ok() ? std::string(name) : std::string();
  }
  return {};
}

const Bytes kRfcDcid = unhex("8394c8f03e515708");

// ---------------------------------------------------------------------------

void test_rfc_keys() {
  struct Vec {
    uint32_t version;
    Side side;
    const char *secret, *key, *iv, *hp;
  } vecs[] = {
      // RFC 9001 A.1
      {ja4::quic::kVersion1, Side::Client, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
       "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
      {ja4::quic::kVersion1, Side::Server, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
       "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
      // RFC 9369 A.1
      {ja4::quic::kVersion2, Side::Client, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
       "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
      {ja4::quic::kVersion2, Side::Server, "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
       "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
  };
  for (const auto& v : vecs) {
    InitialKeys k = keys(v.version, kRfcDcid, v.side);
    CHECK_EQ(hex(k.secret, 32), std::string(v.secret));
    CHECK_EQ(hex(k.key, 16), std::string(v.key));
    CHECK_EQ(hex(k.iv, 12), std::string(v.iv));
    CHECK_EQ(hex(k.hp, 16), std::string(v.hp));
  }
  InitialKeys k;
  CHECK(!ja4::quic::derive_initial_keys(0xff00001d, kRfcDcid.data(), kRfcDcid.size(), Side::Client, &k));
  Bytes long_cid(21, 1);
  CHECK(!ja4::quic::derive_initial_keys(1, long_cid.data(), long_cid.size(), Side::Client, &k));
  // A zero-length DCID is legal after a Retry with an empty SCID.
  CHECK(ja4::quic::derive_initial_keys(1, nullptr, 0, Side::Client, &k));
}

// The CRYPTO frame of RFC 9001 A.2 / RFC 9369 A.2 (the same ClientHello).
const char* kRfcClientCrypto =
    "060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
    "04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806 048000ffff";
// The payload of RFC 9001 A.3 / RFC 9369 A.3: an ACK frame and the ServerHello.
const char* kRfcServerPayload =
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200"
    "130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304";

void test_sealer_matches_rfc() {
  // The packets built by seal() are byte-identical to the RFC samples, so the
  // synthetic tests below exercise the same transformations.
  // The RFC's plaintext, padded to 1162 bytes, sealed with PN 2 in 4 bytes.
  Bytes crypto = unhex(kRfcClientCrypto);
  CHECK_EQ(crypto.size(), size_t(245));
  Bytes payload = crypto;
  payload.resize(1162, 0);
  for (auto [version, type_bits, file] :
       {std::tuple{ja4::quic::kVersion1, 0, "rfc9001-client-initial.hex"},
        std::tuple{ja4::quic::kVersion2, 1, "rfc9369-client-initial.hex"}}) {
    Bytes built = seal(version, uint8_t(type_bits), true, keys(version, kRfcDcid, Side::Client), kRfcDcid, {}, 2, 4,
                       payload);
    Bytes expected = load_datagrams(file).at(0);
    CHECK_EQ(hex(built.data(), built.size()), hex(expected.data(), expected.size()));
  }
  Bytes server_payload = unhex(kRfcServerPayload);
  Bytes scid = unhex("f067a5502a4262b5");
  for (auto [version, type_bits, file] :
       {std::tuple{ja4::quic::kVersion1, 0, "rfc9001-server-initial.hex"},
        std::tuple{ja4::quic::kVersion2, 1, "rfc9369-server-initial.hex"}}) {
    Bytes built = seal(version, uint8_t(type_bits), true, keys(version, kRfcDcid, Side::Server), {}, scid, 1, 2,
                       server_payload);
    Bytes expected = load_datagrams(file).at(0);
    CHECK_EQ(hex(built.data(), built.size()), hex(expected.data(), expected.size()));
  }
}

void test_rfc_client_initial() {
  for (auto [version, file] : {std::pair{ja4::quic::kVersion1, "rfc9001-client-initial.hex"},
                               std::pair{ja4::quic::kVersion2, "rfc9369-client-initial.hex"}}) {
    Bytes d = load_datagrams(file).at(0);
    CHECK_EQ(d.size(), size_t(1200));
    CHECK(ja4::quic::looks_like_initial(d.data(), d.size()));
    InitialReassembler r(Side::Client);
    CHECK_EQ(r.version(), 0u);
    CHECK_EQ(feed(r, d), FeedResult::Decrypted);
    CHECK_EQ(r.version(), version);
    CHECK(r.original_dcid() == kRfcDcid);
    std::string_view hs = r.crypto_stream();
    // CRYPTO frame "060040f1": offset 0, 0xf1 = 241 bytes; the ClientHello
    // "010000ed": type 1, 237 bytes of body.
    CHECK_EQ(hs.size(), size_t(241));
    CHECK_EQ(uint8_t(hs[0]), 0x01);
    CHECK_EQ((uint8_t(hs[1]) << 16 | uint8_t(hs[2]) << 8 | uint8_t(hs[3])), 237);
    CHECK_EQ(client_hello_sni(hs), std::string("example.com"));
    CHECK_EQ(r.counters().packets_decrypted, 1u);
    CHECK_EQ(r.counters().crypto_frames, 1u);
    CHECK_EQ(r.counters().key_derivations, 1u);

    // The same packet again is a retransmission: decrypted, nothing new.
    CHECK_EQ(feed(r, d), FeedResult::Decrypted);
    CHECK_EQ(r.crypto_stream().size(), size_t(241));
    CHECK_EQ(r.counters().duplicate_bytes, 241u);
    CHECK_EQ(r.counters().key_derivations, 1u);  // keys are cached

    // Keys are per direction: the server side cannot open a client packet.
    InitialReassembler s(Side::Server);
    CHECK(s.set_original_dcid(kRfcDcid.data(), kRfcDcid.size()));
    CHECK_EQ(feed(s, d), FeedResult::DecryptFailed);
    CHECK_EQ(s.counters().decrypt_failures, 1u);
    CHECK(s.crypto_stream().empty());
  }
}

void test_rfc_server_initial() {
  for (auto [version, file] : {std::pair{ja4::quic::kVersion1, "rfc9001-server-initial.hex"},
                               std::pair{ja4::quic::kVersion2, "rfc9369-server-initial.hex"}}) {
    Bytes d = load_datagrams(file).at(0);
    CHECK(ja4::quic::looks_like_initial(d.data(), d.size()));
    InitialReassembler s(Side::Server);
    CHECK(s.set_original_dcid(kRfcDcid.data(), kRfcDcid.size()));
    CHECK_EQ(feed(s, d), FeedResult::Decrypted);
    CHECK_EQ(s.version(), version);
    // ACK frame skipped, then CRYPTO "0600405a": 90 bytes, ServerHello
    // "02000056".
    std::string_view hs = s.crypto_stream();
    CHECK_EQ(hs.size(), size_t(90));
    CHECK_EQ(uint8_t(hs[0]), 0x02);
    CHECK_EQ((uint8_t(hs[1]) << 16 | uint8_t(hs[2]) << 8 | uint8_t(hs[3])), 86);
    CHECK_EQ(hex(reinterpret_cast<const uint8_t*>(hs.data()), hs.size()),
             std::string(kRfcServerPayload).substr(18));

    // Fed before the original DCID is known, the packet waits and opens when
    // it is.
    InitialReassembler late(Side::Server);
    CHECK_EQ(feed(late, d), FeedResult::DecryptFailed);
    CHECK_EQ(late.counters().packets_parked, 1u);
    CHECK(late.crypto_stream().empty());
    CHECK(late.set_original_dcid(kRfcDcid.data(), kRfcDcid.size()));
    CHECK_EQ(late.crypto_stream().size(), size_t(90));
    CHECK_EQ(late.counters().packets_decrypted, 1u);

    // A client side reading server packets derives from the packet's own
    // (empty) DCID and fails.
    InitialReassembler wrong(Side::Client);
    FeedResult res = feed(wrong, d);
    CHECK(res != FeedResult::Decrypted);
    CHECK(wrong.crypto_stream().empty());
  }
}

void test_chrome_capture() {
  std::vector<Bytes> datagrams = load_datagrams("chrome-google-client.hex");
  CHECK_EQ(datagrams.size(), size_t(1));
  for (int reverse = 0; reverse < 2; ++reverse) {
    if (reverse) std::reverse(datagrams.begin(), datagrams.end());
    InitialReassembler r(Side::Client);
    for (const auto& d : datagrams) {
      CHECK(ja4::quic::looks_like_initial(d.data(), d.size()));
      CHECK_EQ(feed(r, d), FeedResult::Decrypted);
    }
    CHECK_EQ(r.version(), ja4::quic::kVersion1);
    CHECK_EQ(hex(r.original_dcid().data(), r.original_dcid().size()), std::string("2fadc20ded383f8c"));
    // Chrome scatters the ClientHello over 11 CRYPTO frames, out of order,
    // between PING and PADDING frames.
    CHECK_EQ(r.counters().crypto_frames, 11u);
    std::string_view hs = r.crypto_stream();
    CHECK_EQ(hs.size(), size_t(297));
    CHECK_EQ(uint8_t(hs[0]), 0x01);
    CHECK_EQ(size_t(uint8_t(hs[1]) << 16 | uint8_t(hs[2]) << 8 | uint8_t(hs[3])), hs.size() - 4);
    CHECK(hs.find("www.google.com") != std::string_view::npos);
    CHECK_EQ(client_hello_sni(hs), std::string("www.google.com"));
    CHECK_EQ(r.counters().duplicate_bytes, 0u);
    CHECK_EQ(r.counters().malformed_packets, 0u);
  }
}

// A 3000-byte handshake split over three Initial packets with overlapping
// CRYPTO frames, coalesced with 0-RTT/Handshake/short-header packets, fed in
// every order.
void test_reordered_coalesced() {
  Bytes stream = random_bytes(3000);
  stream[0] = 0x01;
  stream[1] = 0;
  stream[2] = uint8_t((3000 - 4) >> 8);
  stream[3] = uint8_t(3000 - 4);
  const uint32_t v1 = ja4::quic::kVersion1;
  const Bytes odcid = unhex("0011223344556677");
  const Bytes server_cid = unhex("a1a2a3a4");
  const InitialKeys k = keys(v1, odcid, Side::Client);

  Bytes p0 = concat({crypto_frame(600, stream, 600, 600), crypto_frame(0, stream, 0, 700), Bytes(20, 0)});
  // ACK: largest 5, delay 0, 2 ranges, first range 1, ranges (0,1) (0,0);
  // then CRYPTO and a PING.
  Bytes p1 = concat({unhex("0205000201" "0001" "0000"), crypto_frame(1100, stream, 1100, 900), unhex("01")});
  Bytes p2 = concat({unhex("0302000000" "010203"),  // ACK_ECN: largest 2, delay 0, 0 ranges, first 0, ECN 1 2 3
                     crypto_frame(2000, stream, 2000, 1000), crypto_frame(1150, stream, 1150, 100),
                     unhex("1c0a0603627965")});  // CONNECTION_CLOSE 0x1c: code 10, frame 6, "bye"
  // p2 went out after the server's first Initial: its DCID is the server's
  // choice, its keys still come from the original DCID (RFC 9001 5.2).
  Bytes d0 = concat({seal(v1, 0, true, k, odcid, {}, 0, 1, p0), opaque_long(v1, 2, odcid, 50)});
  Bytes d1 = concat({seal(v1, 0, true, k, odcid, {}, 1, 2, p1), opaque_long(v1, 1, odcid, 40),
                     unhex("4011223344556677") /* short header: stop here */, random_bytes(30)});
  Bytes d2 = seal(v1, 0, true, k, server_cid, {}, 2, 1, p2);
  std::vector<const Bytes*> order = {&d0, &d1, &d2};
  std::sort(order.begin(), order.end());
  int permutations = 0;
  do {
    ++permutations;
    InitialReassembler r(Side::Client);
    for (const Bytes* d : order) {
      FeedResult res = feed(r, *d);
      // d2 can only open once d0 or d1 revealed the original DCID.
      if (d != &d2) CHECK_EQ(res, FeedResult::Decrypted);
    }
    CHECK(r.crypto_stream() == std::string_view(reinterpret_cast<const char*>(stream.data()), stream.size()));
    CHECK_EQ(r.counters().packets_decrypted, 3u);
    CHECK_EQ(r.counters().packets_skipped, 2u);
    CHECK_EQ(r.counters().crypto_frames, 5u);
    // 3300 bytes sent for 3000 distinct ones, whatever the order.
    CHECK_EQ(r.counters().duplicate_bytes, 300u);
    CHECK_EQ(r.counters().decrypt_failures, 0u);
    CHECK_EQ(r.counters().malformed_packets, 0u);
    CHECK(r.original_dcid() == odcid);
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK_EQ(permutations, 6);
}

void test_version2_coalesced() {
  const uint32_t v2 = ja4::quic::kVersion2;
  const Bytes dcid = unhex("c0ffee");
  Bytes stream = random_bytes(500);
  // v2 type bits: Initial 0b01, 0-RTT 0b10, Handshake 0b11.
  Bytes d = concat({seal(v2, 1, true, keys(v2, dcid, Side::Client), dcid, {}, 0, 1, crypto_frame(0, stream, 0, 500)),
                    opaque_long(v2, 2, dcid, 30), opaque_long(v2, 3, dcid, 30)});
  InitialReassembler r(Side::Client);
  CHECK_EQ(feed(r, d), FeedResult::Decrypted);
  CHECK_EQ(r.version(), v2);
  CHECK_EQ(r.crypto_stream().size(), size_t(500));
  CHECK_EQ(r.counters().packets_skipped, 2u);
  // A v2 packet with v1's Initial type bits (0b00) is a v2 Retry, not an Initial.
  Bytes v1_bits = seal(v2, 0, true, keys(v2, dcid, Side::Client), dcid, {}, 0, 1, crypto_frame(0, stream, 0, 100));
  CHECK(!ja4::quic::looks_like_initial(v1_bits.data(), v1_bits.size()));
  // A v2-protected packet claiming to be v1 does not open.
  Bytes wrong = seal(v2, 0, true, keys(v2, dcid, Side::Client), dcid, {}, 0, 1, crypto_frame(0, stream, 0, 100));
  wrong[4] = 1, wrong[1] = wrong[2] = wrong[3] = 0;
  InitialReassembler r2(Side::Client);
  CHECK_EQ(feed(r2, wrong), FeedResult::DecryptFailed);
}

void test_packet_numbers_and_retry() {
  const uint32_t v1 = ja4::quic::kVersion1;
  const Bytes odcid = unhex("0102030405060708");
  const Bytes retry_cid = unhex("99887766");
  Bytes stream = random_bytes(400);
  // Packet numbers past one byte: 0x1234 sent in 2 bytes, then 0x1235 in
  // one, which only decodes right relative to the largest seen (RFC 9000 A.3).
  InitialReassembler r(Side::Client);
  CHECK_EQ(feed(r, seal(v1, 0, true, keys(v1, odcid, Side::Client), odcid, {}, 0x1234, 2,
                        crypto_frame(0, stream, 0, 200))),
           FeedResult::Decrypted);
  CHECK_EQ(feed(r, seal(v1, 0, true, keys(v1, odcid, Side::Client), odcid, {}, 0x1235, 1,
                        crypto_frame(200, stream, 200, 100))),
           FeedResult::Decrypted);
  // Across a one-byte wrap: 0x12fe, then 0x1301 sent as 0x01 (decodes
  // upwards), then a late 0x12ff sent as 0xff (decodes downwards).
  const Bytes ping = {0x01, 0x00, 0x00, 0x00};
  for (auto [pn, len] : {std::pair{0x12fe, 2}, std::pair{0x1301, 1}, std::pair{0x12ff, 1}})
    CHECK_EQ(feed(r, seal(v1, 0, true, keys(v1, odcid, Side::Client), odcid, {}, uint64_t(pn), size_t(len), ping)),
             FeedResult::Decrypted);
  // After a Retry the client's Initials use the server-chosen DCID and keys
  // derived from it (RFC 9001 5.2); the client side learns them.
  CHECK_EQ(feed(r, seal(v1, 0, true, keys(v1, retry_cid, Side::Client), retry_cid, {}, 0x1302, 1,
                        crypto_frame(300, stream, 300, 100))),
           FeedResult::Decrypted);
  CHECK_EQ(r.crypto_stream().size(), size_t(400));
  CHECK(r.original_dcid() == odcid);
  CHECK(r.retry_dcid() == retry_cid);

  // The server side learns the new DCID from the Retry packet it sends.
  Bytes retry{0xf0, 0, 0, 0, 1, 8};
  retry.insert(retry.end(), odcid.begin(), odcid.end());  // DCID: the client's SCID, here reused
  retry.push_back(uint8_t(retry_cid.size()));
  retry.insert(retry.end(), retry_cid.begin(), retry_cid.end());
  Bytes token_and_tag = random_bytes(40);
  retry.insert(retry.end(), token_and_tag.begin(), token_and_tag.end());
  CHECK(!ja4::quic::looks_like_initial(retry.data(), retry.size()));
  Bytes server_stream = random_bytes(120);
  server_stream[0] = 0x02;
  Bytes server_initial = seal(v1, 0, true, keys(v1, retry_cid, Side::Server), odcid, unhex("5555"), 0, 2,
                              crypto_frame(0, server_stream, 0, 120));
  InitialReassembler s(Side::Server);
  CHECK(s.set_original_dcid(odcid.data(), odcid.size()));
  CHECK_EQ(feed(s, retry), FeedResult::NotInitial);
  CHECK(s.retry_dcid() == retry_cid);
  CHECK_EQ(feed(s, server_initial), FeedResult::Decrypted);
  CHECK_EQ(s.crypto_stream().size(), size_t(120));
  // Without the original DCID, the server's Initial waits for the Retry.
  InitialReassembler s2(Side::Server);
  CHECK_EQ(feed(s2, server_initial), FeedResult::DecryptFailed);
  CHECK_EQ(feed(s2, retry), FeedResult::Decrypted);  // the parked Initial opened
  CHECK_EQ(s2.crypto_stream().size(), size_t(120));
}

void test_coalesced_other_dcid() {
  // RFC 9000 12.2: packets after the first with another DCID are ignored,
  // even when they would decrypt.
  const uint32_t v1 = ja4::quic::kVersion1;
  const Bytes a = unhex("0a0a0a0a0a0a0a0a"), b = unhex("0b0b0b0b0b0b0b0b");
  const InitialKeys k = keys(v1, a, Side::Client);
  Bytes stream = random_bytes(200);
  Bytes d = concat({seal(v1, 0, true, k, a, {}, 0, 1, crypto_frame(0, stream, 0, 100)),
                    seal(v1, 0, true, k, b, {}, 1, 1, crypto_frame(100, stream, 100, 100))});
  InitialReassembler r(Side::Client);
  CHECK_EQ(feed(r, d), FeedResult::Decrypted);
  CHECK_EQ(r.crypto_stream().size(), size_t(100));
  CHECK_EQ(r.counters().packets_ignored, 1u);
  CHECK_EQ(r.counters().packets_decrypted, 1u);
  // Alone in its datagram, the second packet opens with the original keys.
  Bytes second(d.begin() + (d.size() / 2), d.end());
  CHECK_EQ(feed(r, second), FeedResult::Decrypted);
  CHECK_EQ(r.crypto_stream().size(), size_t(200));
  // A truncated coalesced packet after a good one is Malformed, and the good
  // one still counts.
  InitialReassembler t(Side::Client);
  Bytes cut(d.begin(), d.end() - 10);
  CHECK_EQ(feed(t, cut), FeedResult::Malformed);
  CHECK_EQ(t.crypto_stream().size(), size_t(100));
}

void test_frames() {
  const uint32_t v1 = ja4::quic::kVersion1;
  const Bytes dcid = unhex("abcdef0123456789");
  const InitialKeys k = keys(v1, dcid, Side::Client);
  Bytes stream = random_bytes(300);
  // An unknown frame (0x08, STREAM) ends the packet as Malformed; CRYPTO data
  // before it was authenticated with the packet and is kept.
  {
    InitialReassembler r(Side::Client);
    Bytes pl = concat({crypto_frame(0, stream, 0, 100), unhex("0800"), crypto_frame(100, stream, 100, 100)});
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, pl)), FeedResult::Malformed);
    CHECK_EQ(r.crypto_stream().size(), size_t(100));
    CHECK_EQ(r.counters().packets_decrypted, 1u);
    CHECK_EQ(r.counters().malformed_packets, 1u);
  }
  // A CRYPTO frame longer than its packet.
  {
    InitialReassembler r(Side::Client);
    Bytes pl = crypto_frame(0, stream, 0, 100);
    pl[2] = 0x65;  // claims 101 bytes
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, pl)), FeedResult::Malformed);
    CHECK(r.crypto_stream().empty());
  }
  // An ACK whose range count runs past the packet.
  {
    InitialReassembler r(Side::Client);
    Bytes pl = concat({unhex("0200004fff00"), unhex("0000")});
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, pl)), FeedResult::Malformed);
  }
  // CRYPTO beyond 2^62-1.
  {
    InitialReassembler r(Side::Client);
    Bytes pl = concat({unhex("06ffffffffffffffff05"), Bytes(5, 1)});
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, pl)), FeedResult::Malformed);
  }
  // A CONNECTION_CLOSE whose reason runs past the packet.
  {
    InitialReassembler r(Side::Client);
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, unhex("1c000005616263"))), FeedResult::Malformed);
  }
  // Padding only, and PING only: decrypted, nothing to add.
  {
    InitialReassembler r(Side::Client);
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, Bytes(50, 0))), FeedResult::Decrypted);
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 1, 4, unhex("01"))), FeedResult::Decrypted);
    CHECK(r.crypto_stream().empty());
    CHECK_EQ(r.counters().packets_decrypted, 2u);
  }
  // Overlapping out-of-order fragments keep the first copy of each byte.
  {
    InitialReassembler r(Side::Client);
    Bytes other = stream;
    for (auto& b : other) b ^= 0xff;
    Bytes pl = concat({crypto_frame(100, stream, 100, 50), crypto_frame(90, other, 90, 80),
                       crypto_frame(0, stream, 0, 95)});
    CHECK_EQ(feed(r, seal(v1, 0, true, k, dcid, {}, 0, 1, pl)), FeedResult::Decrypted);
    std::string_view hs = r.crypto_stream();
    CHECK_EQ(hs.size(), size_t(170));
    // [100,150) came first from `stream`, then [90,170) from `other`, then
    // [0,95) from `stream`: each byte keeps the copy that arrived first.
    CHECK(std::memcmp(hs.data(), stream.data(), 90) == 0);
    CHECK(std::memcmp(hs.data() + 90, other.data() + 90, 10) == 0);
    CHECK(std::memcmp(hs.data() + 100, stream.data() + 100, 50) == 0);
    CHECK(std::memcmp(hs.data() + 150, other.data() + 150, 20) == 0);
  }
}

void test_header_checks() {
  Bytes d = load_datagrams("chrome-google-client.hex").at(0);
  CHECK_EQ(ja4::quic::looks_like_initial(nullptr, 0), false);
  InitialReassembler r(Side::Client);
  CHECK_EQ(r.feed(nullptr, 0), FeedResult::NotQuic);
  CHECK_EQ(r.feed(d.data(), 0), FeedResult::NotQuic);
  Bytes shorth = d;
  shorth[0] &= 0x7f;  // short header
  CHECK(!ja4::quic::looks_like_initial(shorth.data(), shorth.size()));
  CHECK_EQ(feed(r, shorth), FeedResult::NotQuic);
  Bytes draft = d;
  draft[1] = 0xff, draft[4] = 0x1d;  // draft-29
  CHECK(!ja4::quic::looks_like_initial(draft.data(), draft.size()));
  CHECK_EQ(feed(r, draft), FeedResult::UnsupportedVersion);
  Bytes vn = d;
  vn[1] = vn[2] = vn[3] = vn[4] = 0;  // Version Negotiation
  CHECK_EQ(feed(r, vn), FeedResult::NotInitial);
  Bytes handshake = d;
  handshake[0] = uint8_t((handshake[0] & 0xcf) | 0x20);
  CHECK(!ja4::quic::looks_like_initial(handshake.data(), handshake.size()));
  CHECK_EQ(feed(r, handshake), FeedResult::NotInitial);
  Bytes long_cid = d;
  long_cid[5] = 21;
  CHECK(!ja4::quic::looks_like_initial(long_cid.data(), long_cid.size()));
  CHECK_EQ(feed(r, long_cid), FeedResult::Malformed);
  // Greased fixed bit (RFC 9287): still an Initial by its header; the AEAD
  // then fails because the first byte is authenticated.
  Bytes greased = d;
  greased[0] &= 0xbf;
  CHECK(ja4::quic::looks_like_initial(greased.data(), greased.size()));
  CHECK_EQ(feed(r, greased), FeedResult::DecryptFailed);
  CHECK(r.crypto_stream().empty());
  CHECK(!r.set_original_dcid(long_cid.data(), 21));
  // Packets too short for the header protection sample (RFC 9001 5.4.2) are
  // Malformed without reading past them: Length 19 leaves one byte short.
  for (size_t length : {size_t(0), size_t(19)}) {
    Bytes tiny(d.begin(), d.begin() + 16);  // through Token Length (0)
    tiny.push_back(uint8_t(length));
    tiny.insert(tiny.end(), length, 0xaa);
    CHECK(ja4::quic::looks_like_initial(tiny.data(), tiny.size()));
    InitialReassembler t(Side::Client);
    CHECK_EQ(feed(t, tiny), FeedResult::Malformed);
    CHECK_EQ(t.counters().malformed_packets, 1u);
  }
}

void test_truncation_and_flips() {
  const Bytes d = load_datagrams("chrome-google-client.hex").at(0);
  // Every proper prefix: never decrypted, never a crash.
  int bad = 0;
  for (size_t n = 0; n < d.size(); ++n) {
    InitialReassembler r(Side::Client);
    FeedResult res = r.feed(d.data(), n);
    if (res == FeedResult::Decrypted || !r.crypto_stream().empty()) ++bad;
    if (ja4::quic::looks_like_initial(d.data(), n)) ++bad;
  }
  CHECK_EQ(bad, 0);
  // Every byte flipped (three different ways): never decrypted.
  bad = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    for (uint8_t x : {uint8_t(0x01), uint8_t(0x80), uint8_t(1 + rnd() % 255)}) {
      Bytes m = d;
      m[i] ^= x;
      InitialReassembler r(Side::Client);
      FeedResult res = feed(r, m);
      if (res == FeedResult::Decrypted || !r.crypto_stream().empty()) {
        ++bad;
        std::fprintf(stderr, "flip at %zu ^%02x decrypted\n", i, x);
      }
    }
  }
  CHECK_EQ(bad, 0);
}

void test_garbage() {
  const Bytes dcid = unhex("0102030405060708");
  InitialReassembler client(Side::Client, 4096);
  InitialReassembler server(Side::Server, 4096);
  server.set_original_dcid(dcid.data(), dcid.size());
  // Random datagrams, half with a plausible long header.
  int decrypted = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes g = random_bytes(rnd() % 1400);
    if (g.size() > 6 && (i & 1)) {
      g[0] = uint8_t(0xc0 | (g[0] & 0x3f));
      g[1] = g[2] = g[3] = 0;
      g[4] = (i & 2) ? 1 : 0;
      if (i & 4) g[1] = 0x6b, g[2] = 0x33, g[3] = 0x43, g[4] = 0xcf;
      g[5] = uint8_t(g[5] % 21);
    }
    decrypted += feed(client, g) == FeedResult::Decrypted;
    decrypted += feed(server, g) == FeedResult::Decrypted;
  }
  CHECK_EQ(decrypted, 0);
  CHECK(client.crypto_stream().empty());
  // Correctly protected packets whose plaintext is random bytes: the frame
  // parser sees garbage; the stream never grows past the cap.
  const InitialKeys k = keys(1, dcid, Side::Client);
  InitialReassembler r(Side::Client, 4096);
  int results[7] = {};
  for (int i = 0; i < 3000; ++i) {
    Bytes pl = random_bytes(1 + rnd() % 300);
    // Bias towards frame types that are parsed, so the parser goes deep.
    static const uint8_t kTypes[] = {0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1d};
    pl[0] = kTypes[rnd() % 7];
    results[int(feed(r, seal(1, 0, true, k, dcid, {}, uint64_t(i), 4, pl)))]++;
    CHECK(r.crypto_stream().size() <= 4096);
  }
  CHECK_EQ(r.counters().packets_decrypted, 3000u);
  CHECK(results[int(FeedResult::Malformed)] > 0);
  CHECK_EQ(results[int(FeedResult::DecryptFailed)], 0);
}

void test_overflow() {
  const Bytes d = load_datagrams("chrome-google-client.hex").at(0);
  InitialReassembler full(Side::Client);
  CHECK_EQ(feed(full, d), FeedResult::Decrypted);
  // A 100-byte cap keeps the first 100 bytes and drops the 197 beyond.
  InitialReassembler r(Side::Client, 100);
  CHECK_EQ(feed(r, d), FeedResult::Overflow);
  CHECK(r.crypto_stream() == full.crypto_stream().substr(0, 100));
  CHECK_EQ(r.counters().bytes_dropped_over_cap, 197u);
  CHECK_EQ(r.counters().packets_decrypted, 1u);
  // Far-away offsets are dropped without allocating for them.
  const Bytes dcid = unhex("0102030405060708");
  Bytes far = unhex("06" "c000000040000000" "00" "00000000");  // CRYPTO at 2^30, empty; padding
  Bytes big = unhex("06" "c000000040000000" "04" "01020304");  // 4 bytes at offset 2^30
  InitialReassembler r2(Side::Client);
  CHECK_EQ(feed(r2, seal(1, 0, true, keys(1, dcid, Side::Client), dcid, {}, 0, 1, far)),
           FeedResult::Decrypted);
  CHECK_EQ(feed(r2, seal(1, 0, true, keys(1, dcid, Side::Client), dcid, {}, 1, 1, big)), FeedResult::Overflow);
  CHECK_EQ(r2.counters().bytes_dropped_over_cap, 4u);
  CHECK(r2.crypto_stream().empty());
  // Parked packets share the same bound.
  const Bytes s = load_datagrams("rfc9001-server-initial.hex").at(0);
  InitialReassembler late(Side::Server, 200);
  CHECK_EQ(feed(late, s), FeedResult::DecryptFailed);
  CHECK_EQ(feed(late, s), FeedResult::Overflow);
  CHECK_EQ(late.counters().packets_parked, 1u);
  CHECK_EQ(late.counters().parked_dropped, 1u);
  late.set_original_dcid(kRfcDcid.data(), kRfcDcid.size());
  CHECK_EQ(late.crypto_stream().size(), size_t(90));
}

// A CRYPTO frame far past the bytes received is not stored: memory follows
// the highest offset stored, so one 1-byte frame at offset 65,000 made the
// reassembler hold 64 KiB (75 KB with its bitmap) for a 41-byte datagram.
// Bytes up to kMaxCryptoAhead past the gap-free prefix are still taken, and
// the window moves with the prefix.
Bytes crypto_frame(uint64_t offset, const Bytes& data) {
  Bytes f{0x06};
  put_varint(f, offset);
  put_varint(f, data.size());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

void test_far_offset() {
  const Bytes dcid = unhex("0a0b0c0d0e0f1011");
  const InitialKeys k = keys(1, dcid, Side::Client);
  const size_t ahead = InitialReassembler::kMaxCryptoAhead;
  {
    InitialReassembler r(Side::Client);
    CHECK_EQ(feed(r, seal(1, 0, true, k, dcid, {}, 0, 2, crypto_frame(65000, {0x42}))), FeedResult::Overflow);
    CHECK_EQ(r.counters().bytes_dropped_ahead, 1u);
    CHECK_EQ(r.counters().bytes_dropped_over_cap, 0u);
    CHECK(r.crypto_stream().empty());
    // inside the window: held, and joined once the prefix arrives
    Bytes tail = random_bytes(40), head = random_bytes(ahead - 50);
    CHECK_EQ(feed(r, seal(1, 0, true, k, dcid, {}, 1, 2, crypto_frame(ahead - 50, tail))), FeedResult::Decrypted);
    CHECK(r.crypto_stream().empty());
    // a frame straddling the window's end keeps the part inside it (10 of 20 bytes)
    CHECK_EQ(feed(r, seal(1, 0, true, k, dcid, {}, 2, 2, crypto_frame(ahead - 10, Bytes(20, 0x55)))), FeedResult::Overflow);
    CHECK_EQ(r.counters().bytes_dropped_ahead, 1u + 10u);
    CHECK_EQ(feed(r, seal(1, 0, true, k, dcid, {}, 3, 2, crypto_frame(0, head))), FeedResult::Decrypted);
    CHECK_EQ(r.crypto_stream().size(), ahead);
    CHECK(std::memcmp(r.crypto_stream().data() + ahead - 50, tail.data(), tail.size()) == 0);
    // the window moved with the prefix: what was too far is taken now
    CHECK_EQ(feed(r, seal(1, 0, true, k, dcid, {}, 4, 2, crypto_frame(ahead + 1000, {0x43}))), FeedResult::Decrypted);
  }
  // what a flood of such datagrams costs: a reassembler each, no 64 KiB each
  constexpr int kN = 2000;
  const Bytes far = seal(1, 0, true, k, dcid, {}, 0, 2, crypto_frame(65000, {0x42}));
  std::vector<std::unique_ptr<InitialReassembler>> rs;
  rs.reserve(kN);
  const long before = ja4test::rss_kb();
  for (int i = 0; i < kN; ++i) {
    rs.push_back(std::make_unique<InitialReassembler>(Side::Client));
    feed(*rs.back(), far);
  }
  const long per = (ja4test::rss_kb() - before) * 1024 / kN;
  std::printf("a reassembler fed one far CRYPTO frame: %ld bytes\n", per);
#if defined(__SANITIZE_ADDRESS__)
  (void)per;  // ASan's redzones and quarantine: no resident-memory bound
#else
  CHECK(per < 16 * 1024);
#endif
}

// Coalesced Initials that no key opens: one key derivation per datagram at
// most (each is HKDF plus two cipher contexts; 37 such packets fit in one
// datagram), and a later datagram may still derive.
void test_derivations_per_datagram() {
  const Bytes dcid = unhex("2122232425262728");
  auto junk_initial = [&dcid] {
    Bytes p{0xc0, 0, 0, 0, 1, uint8_t(dcid.size())};
    p.insert(p.end(), dcid.begin(), dcid.end());
    p.push_back(0);  // SCID length
    p.push_back(0);  // Token Length
    put_varint(p, 20);
    Bytes body = random_bytes(20);
    p.insert(p.end(), body.begin(), body.end());
    return p;
  };
  Bytes d;
  for (int i = 0; i < 37; ++i) {
    Bytes p = junk_initial();
    d.insert(d.end(), p.begin(), p.end());
  }
  InitialReassembler r(Side::Client);
  CHECK(feed(r, d) != FeedResult::Decrypted);
  CHECK_EQ(r.counters().key_derivations, 1u);
  feed(r, d);
  CHECK_EQ(r.counters().key_derivations, 2u);
  // a real Initial after them still opens (the parked junk, retried with
  // the keys it revealed, still fails: the result says DecryptFailed)
  const Bytes good = load_datagrams("chrome-google-client.hex").at(0);
  feed(r, good);
  CHECK_EQ(r.counters().packets_decrypted, 1u);
  CHECK(!r.crypto_stream().empty());
}

}  // namespace

int main() {
  test_rfc_keys();
  test_sealer_matches_rfc();
  test_rfc_client_initial();
  test_rfc_server_initial();
  test_chrome_capture();
  test_reordered_coalesced();
  test_version2_coalesced();
  test_packet_numbers_and_retry();
  test_coalesced_other_dcid();
  test_frames();
  test_header_checks();
  test_truncation_and_flips();
  test_garbage();
  test_overflow();
  test_far_offset();
  test_derivations_per_datagram();
  return ja4test::finish("quic_initial_test");
}
