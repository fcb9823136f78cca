// QUIC Initial packet protection removal and CRYPTO stream reassembly.
//
// References, quoted next to the code that implements them:
//   RFC 9000  QUIC transport (packet formats, frames, packet numbers)
//   RFC 9001  Using TLS to secure QUIC (Initial secrets, AEAD, header protection)
//   RFC 9369  QUIC version 2 (salt, labels, packet type bits)
//   RFC 8446  TLS 1.3 (HKDF-Expand-Label)
#include "quic_initial.h"

#include "hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "byte_reader.h"

namespace ja4::quic {

namespace {

constexpr size_t kMaxCidLen = 20;
constexpr size_t kSampleLen = 16;
constexpr size_t kTagLen = 16;
constexpr size_t kSecretLen = 32;  // SHA-256
constexpr uint64_t kMaxStreamOffset = (uint64_t(1) << 62) - 1;
// Two versions (an Initial may switch version under compatible version
// negotiation) times two key DCIDs (the original one and one after a Retry).
constexpr size_t kMaxKeySets = 4;

enum class PacketType { Initial, ZeroRtt, Handshake, Retry };

struct VersionParams {
  uint32_t version;
  uint8_t salt[20];
  const char* key_label;
  const char* iv_label;
  const char* hp_label;
  PacketType types[4];  // indexed by the two Long Packet Type bits (0x30)
};

constexpr VersionParams kVersions[] = {
    // RFC 9001 5.2: "initial_salt = 0x38762cf7f55934b34d179ae6a4c80cadccbb7f0a"
    // RFC 9001 5.1: "the label "quic key" ... the label "quic iv" ... the
    // "quic hp" label".
    // RFC 9000 17.2, Table 5: Initial 0x00, 0-RTT 0x01, Handshake 0x02,
    // Retry 0x03.
    {kVersion1,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     "quic key",
     "quic iv",
     "quic hp",
     {PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake, PacketType::Retry}},
    // RFC 9369 3.3.1: "initial_salt = 0x0dede3def700a6db819381be6e269dcbf9bd2ed9"
    // RFC 9369 3.3.2: labels change "from "quic key" to "quicv2 key", from
    // "quic iv" to "quicv2 iv", from "quic hp" to "quicv2 hp"".
    // RFC 9369 3.2: "Initial: 0b01, 0-RTT: 0b10, Handshake: 0b11, Retry: 0b00".
    {kVersion2,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     "quicv2 key",
     "quicv2 iv",
     "quicv2 hp",
     {PacketType::Retry, PacketType::Initial, PacketType::ZeroRtt, PacketType::Handshake}},
};

const VersionParams* find_version(uint32_t version) {
  for (const auto& v : kVersions)
    if (v.version == version) return &v;
  return nullptr;
}

enum class HeaderStatus { Ok, NotLong, Unsupported, Malformed, VersionNegotiation };

}  // namespace

// The cleartext fields of one long-header packet, located in its datagram.
struct LongHeader {
  uint32_t version = 0;
  PacketType type = PacketType::Initial;
  const uint8_t* dcid = nullptr;
  size_t dcid_len = 0;
  const uint8_t* scid = nullptr;
  size_t scid_len = 0;
  size_t pn_offset = 0;   // start of the (protected) Packet Number field
  size_t packet_len = 0;  // bytes of this packet, from its first byte
};

namespace {

// Reads one long header at p. Ok means the packet, as its Length field
// describes it, lies entirely within the len bytes.
HeaderStatus parse_long_header(const uint8_t* p, size_t len, LongHeader* h) {
  ByteReader r(p, len);
  const uint8_t first = r.u8();
  // RFC 9000 17.2: "Header Form: The most significant bit (0x80) of byte 0
  // (the first byte) is set to 1 for long headers."
  if (!r.ok() || !(first & 0x80)) return HeaderStatus::NotLong;
  const uint32_t version = r.u32();
  if (!r.ok()) return HeaderStatus::NotLong;  // too short to tell what it is
  h->version = version;
  // RFC 9000 17.2.1: a Version Negotiation packet is "identified by a Version
  // field set to 0x00000000"; it has no Length and fills the datagram.
  if (version == 0) {
    h->packet_len = len;
    return HeaderStatus::VersionNegotiation;
  }
  const VersionParams* params = find_version(version);
  if (!params) return HeaderStatus::Unsupported;
  // The Fixed Bit (0x40) is deliberately not checked: RFC 9287 says "A client
  // MAY also clear the QUIC Bit in Initial packets that are sent to establish
  // a new connection", and the AEAD authenticates the first byte anyway.

  // RFC 9000 17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes.
  // Endpoints that receive a version 1 long header with a value larger than
  // 20 MUST drop the packet." (RFC 9369 keeps this for version 2.)
  const size_t dcid_len = r.u8();
  if (dcid_len > kMaxCidLen) return HeaderStatus::Malformed;
  h->dcid = r.data();
  h->dcid_len = dcid_len;
  r.skip(dcid_len);
  const size_t scid_len = r.u8();
  if (scid_len > kMaxCidLen) return HeaderStatus::Malformed;
  h->scid = r.data();
  h->scid_len = scid_len;
  r.skip(scid_len);
  if (!r.ok()) return HeaderStatus::Malformed;

  h->type = params->types[(first >> 4) & 0x03];
  if (h->type == PacketType::Retry) {
    // RFC 9000 17.2.5: a Retry has no Length field; its "Retry Token (..),
    // Retry Integrity Tag (128)" run to the end of the datagram.
    if (r.remaining() < kTagLen) return HeaderStatus::Malformed;
    h->packet_len = len;
    return HeaderStatus::Ok;
  }
  if (h->type == PacketType::Initial) {
    // RFC 9000 17.2.2: "Token Length (i), Token (..), Length (i)".
    const uint64_t token_len = r.varint();
    if (!r.ok() || token_len > r.remaining()) return HeaderStatus::Malformed;
    r.skip(static_cast<size_t>(token_len));
  }
  // RFC 9000 17.2: "Length: This is the length of the remainder of the packet
  // (that is, the Packet Number and Payload fields) in bytes".
  const uint64_t length = r.varint();
  if (!r.ok() || length > r.remaining()) return HeaderStatus::Malformed;
  h->pn_offset = static_cast<size_t>(r.data() - p);
  h->packet_len = h->pn_offset + static_cast<size_t>(length);
  return HeaderStatus::Ok;
}

bool same_dcid(const LongHeader& a, const LongHeader& b) {
  return a.dcid_len == b.dcid_len && (a.dcid_len == 0 || std::memcmp(a.dcid, b.dcid, a.dcid_len) == 0);
}

// RFC 9000 Appendix A.3, "Sample Packet Number Decoding Algorithm". No packet
// yet means an expected packet number of 0.
uint64_t decode_packet_number(bool have_largest, uint64_t largest, uint64_t truncated, unsigned bits) {
  const uint64_t expected = have_largest ? largest + 1 : 0;
  const uint64_t win = uint64_t(1) << bits;
  const uint64_t hwin = win / 2;
  const uint64_t mask = win - 1;
  const uint64_t candidate = (expected & ~mask) | truncated;
  // "if candidate_pn <= expected_pn - pn_hwin and candidate_pn < (1 << 62) - pn_win:
  //     return candidate_pn + pn_win"
  if (expected >= hwin && candidate <= expected - hwin && candidate < (uint64_t(1) << 62) - win)
    return candidate + win;
  // "if candidate_pn > expected_pn + pn_hwin and candidate_pn >= pn_win:
  //     return candidate_pn - pn_win"
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

// ---- Key derivation -------------------------------------------------------

// One HKDF step with SHA-256; mode is EXTRACT_ONLY or EXPAND_ONLY. Built on
// hash.cc's HMAC rather than OpenSSL's EVP_KDF: setting up a KDF object per
// call cost ~10 us per flow direction, most of the QUIC handshake's time.
bool hkdf(int mode, const uint8_t* key, size_t key_len, const uint8_t* salt, size_t salt_len,
          const uint8_t* info, size_t info_len, uint8_t* out, size_t out_len) {
  if (mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY) {
    // A zero-length DCID is legal (RFC 9001 5.2: "including zero length if
    // the server sends a Retry packet with a zero-length Source Connection ID").
    if (out_len != 32) return false;
    hkdf_sha256_extract(salt, salt_len, key, key_len, out);
    return true;
  }
  if (key_len != 32) return false;
  return hkdf_sha256_expand(key, info, info_len, out, out_len);
}

// RFC 8446 7.1:
//   HKDF-Expand-Label(Secret, Label, Context, Length) =
//        HKDF-Expand(Secret, HkdfLabel, Length)
//   struct {
//       uint16 length = Length;
//       opaque label<7..255> = "tls13 " + Label;
//       opaque context<0..255> = Context;
//   } HkdfLabel;
// RFC 9001 5.1: "All uses of HKDF-Expand-Label in QUIC use a zero-length
// Context."
// Writes the HkdfLabel for (label, out_len) into info; its length, or 0.
size_t hkdf_label(const char* label, size_t out_len, uint8_t (&info)[2 + 1 + 255 + 1]) {
  static const char kPrefix[] = "tls13 ";
  const size_t prefix_len = sizeof(kPrefix) - 1;
  const size_t label_len = std::strlen(label);
  if (prefix_len + label_len > 255 || out_len > 0xffff) return 0;
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(out_len >> 8);
  info[n++] = static_cast<uint8_t>(out_len);
  info[n++] = static_cast<uint8_t>(prefix_len + label_len);
  std::memcpy(info + n, kPrefix, prefix_len);
  n += prefix_len;
  std::memcpy(info + n, label, label_len);
  n += label_len;
  info[n++] = 0;  // empty Context
  return n;
}

bool expand_label(const uint8_t secret[kSecretLen], const char* label, uint8_t* out, size_t out_len) {
  uint8_t info[2 + 1 + 255 + 1];
  size_t n = hkdf_label(label, out_len, info);
  return n && hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, kSecretLen, nullptr, 0, info, n, out, out_len);
}

// The same under a secret whose HMAC pad blocks are hashed once for all its labels.
bool expand_label(const HmacSha256Key& secret, const char* label, uint8_t* out, size_t out_len) {
  uint8_t info[2 + 1 + 255 + 1];
  size_t n = hkdf_label(label, out_len, info);
  return n && hkdf_sha256_expand(secret, info, n, out, out_len);
}

// HMAC keys of the versions' constant salts, prepared on first use.
const HmacSha256Key& salt_key(const VersionParams& v) {
  constexpr size_t kCount = sizeof(kVersions) / sizeof(kVersions[0]);
  thread_local HmacSha256Key keys[kCount];
  thread_local bool ready[kCount] = {};
  size_t i = static_cast<size_t>(&v - kVersions);
  if (!ready[i]) {
    hmac_sha256_key(keys[i], v.salt, sizeof(v.salt));
    ready[i] = true;
  }
  return keys[i];
}

// Cipher contexts of finished flows are kept, per thread and per cipher, and
// re-keyed for the next flow: creating a context and binding it to its
// cipher cost more than the key schedule it then holds (every QUIC flow
// needs four: AEAD and header protection for each direction).
enum class CtxKind { Gcm, Ecb };
constexpr size_t kMaxPooledContexts = 64;

// Set when the thread's pool is gone (thread exit): a context released
// after that, by an engine outliving the pool, is freed outright. A plain
// bool has no destructor, so it stays readable to the end.
thread_local bool context_pool_gone = false;

struct ContextPool {
  std::vector<EVP_CIPHER_CTX*> free[2];
  ~ContextPool() {
    for (auto& list : free)
      for (EVP_CIPHER_CTX* c : list) EVP_CIPHER_CTX_free(c);
    context_pool_gone = true;
  }
};
ContextPool& context_pool() {
  thread_local ContextPool pool;
  return pool;
}

template <CtxKind Kind>
struct CipherCtxRelease {
  void operator()(EVP_CIPHER_CTX* c) const {
    if (context_pool_gone) {
      EVP_CIPHER_CTX_free(c);
      return;
    }
    auto& list = context_pool().free[static_cast<int>(Kind)];
    if (list.size() < kMaxPooledContexts) list.push_back(c);
    else EVP_CIPHER_CTX_free(c);
  }
};
template <CtxKind Kind>
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxRelease<Kind>>;

// A context for `cipher` keyed with `key`: a pooled one re-keyed (its cipher
// is already bound), else a new one. Null on a libcrypto failure.
template <CtxKind Kind>
CipherCtx<Kind> keyed_context(const EVP_CIPHER* cipher, const uint8_t* key) {
  bool decrypt = Kind == CtxKind::Gcm;  // AEAD: opening; header protection: encrypting a sample
  CipherCtx<Kind> c;
  std::vector<EVP_CIPHER_CTX*>* pooled = context_pool_gone ? nullptr : &context_pool().free[static_cast<int>(Kind)];
  if (pooled && !pooled->empty()) {
    auto& list = *pooled;
    c.reset(list.back());
    list.pop_back();
    if (EVP_CipherInit_ex(c.get(), nullptr, nullptr, key, nullptr, decrypt ? 0 : 1) != 1) return nullptr;
  } else {
    c.reset(EVP_CIPHER_CTX_new());
    if (!c || EVP_CipherInit_ex(c.get(), cipher, nullptr, key, nullptr, decrypt ? 0 : 1) != 1) return nullptr;
  }
  if (Kind == CtxKind::Ecb && EVP_CIPHER_CTX_set_padding(c.get(), 0) != 1) return nullptr;
  return c;
}

}  // namespace

bool is_supported_version(uint32_t version) { return find_version(version) != nullptr; }

bool looks_like_initial(const uint8_t* data, size_t len) {
  if (!data) return false;
  LongHeader h;
  return parse_long_header(data, len, &h) == HeaderStatus::Ok && h.type == PacketType::Initial;
}

bool derive_initial_keys(uint32_t version, const uint8_t* dcid, size_t dcid_len, Side side,
                         InitialKeys* out) {
  const VersionParams* v = find_version(version);
  if (!v || !out || dcid_len > kMaxCidLen || (dcid_len && !dcid)) return false;
  // RFC 9001 5.2: "This secret is determined by using HKDF-Extract ... with a
  // salt of 0x38762cf7f55934b34d179ae6a4c80cadccbb7f0a and the input keying
  // material (IKM) of the Destination Connection ID field."
  //   initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
  //   (HKDF-Extract(salt, IKM) = HMAC(salt, IKM), RFC 5869 2.2; the salt is
  //   a per-version constant, so its HMAC key is prepared once.)
  uint8_t initial_secret[kSecretLen];
  hmac_sha256(salt_key(*v), dcid, dcid_len, initial_secret);
  // "The secret used by clients to construct Initial packets uses the PRK and
  // the label "client in" ... Packets constructed by the server use the same
  // process with the label "server in"."
  const char* direction = side == Side::Client ? "client in" : "server in";
  if (!expand_label(initial_secret, direction, out->secret, sizeof(out->secret))) return false;
  // RFC 9001 5.1: "the label "quic key" [is] input to the KDF to produce the
  // AEAD key; the label "quic iv" is used to derive the Initialization Vector
  // (IV) ... The header protection key uses the "quic hp" label". Lengths are
  // those of AEAD_AES_128_GCM: RFC 9001 5: "Initial packets use
  // AEAD_AES_128_GCM".
  HmacSha256Key secret;
  hmac_sha256_key(secret, out->secret, sizeof(out->secret));
  return expand_label(secret, v->key_label, out->key, sizeof(out->key)) &&
         expand_label(secret, v->iv_label, out->iv, sizeof(out->iv)) &&
         expand_label(secret, v->hp_label, out->hp, sizeof(out->hp));
}

const char* to_string(FeedResult r) {
  switch (r) {
    case FeedResult::NotQuic: return "NotQuic";
    case FeedResult::NotInitial: return "NotInitial";
    case FeedResult::Decrypted: return "Decrypted";
    case FeedResult::DecryptFailed: return "DecryptFailed";
    case FeedResult::Malformed: return "Malformed";
    case FeedResult::UnsupportedVersion: return "UnsupportedVersion";
    case FeedResult::Overflow: return "Overflow";
  }
  return "?";
}

// ---- Reassembler ----------------------------------------------------------

// Initial keys of one (version, DCID), with the AES key schedules set up once
// so that each packet only pays for the nonce and the cipher itself.
struct InitialReassembler::KeySet {
  uint32_t version = 0;
  std::vector<uint8_t> dcid;
  uint8_t iv[12] = {};
  CipherCtx<CtxKind::Gcm> aead;  // AES-128-GCM, decrypting
  CipherCtx<CtxKind::Ecb> hp;    // AES-128-ECB, encrypting (header protection masks)

  static std::unique_ptr<KeySet> make(uint32_t version, const std::vector<uint8_t>& dcid, Side side) {
    InitialKeys k;
    if (!derive_initial_keys(version, dcid.data(), dcid.size(), side, &k)) return nullptr;
    auto ks = std::make_unique<KeySet>();
    ks->version = version;
    ks->dcid = dcid;
    std::memcpy(ks->iv, k.iv, sizeof(ks->iv));
    // Fetched once (OpenSSL 3 would otherwise look the cipher up per init).
    static EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    static EVP_CIPHER* ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    ks->aead = keyed_context<CtxKind::Gcm>(gcm, k.key);
    ks->hp = keyed_context<CtxKind::Ecb>(ecb, k.hp);
    if (!ks->aead || !ks->hp) return nullptr;
    return ks;
  }
};

struct InitialReassembler::Tally {
  bool decrypted = false;
  bool failed = false;
  bool malformed = false;
  bool overflow = false;
  // keys derived from a packet's own DCID did not open it: the datagram's
  // other packets are not worth a derivation each (see process_initial)
  bool derived_in_vain = false;

  FeedResult result() const {
    if (overflow) return FeedResult::Overflow;
    if (malformed) return FeedResult::Malformed;
    if (failed) return FeedResult::DecryptFailed;
    if (decrypted) return FeedResult::Decrypted;
    return FeedResult::NotInitial;
  }
};

InitialReassembler::InitialReassembler(Side side, size_t max_bytes) : side_(side), max_bytes_(max_bytes) {}
InitialReassembler::~InitialReassembler() = default;
InitialReassembler::InitialReassembler(InitialReassembler&&) noexcept = default;
InitialReassembler& InitialReassembler::operator=(InitialReassembler&&) noexcept = default;

std::string_view InitialReassembler::crypto_stream() const {
  return std::string_view(reinterpret_cast<const char*>(stream_.data()), contiguous_);
}

bool InitialReassembler::set_original_dcid(const uint8_t* dcid, size_t len) {
  if (len > kMaxCidLen || (len && !dcid)) return false;
  std::vector<uint8_t> v(dcid, dcid + len);
  if (have_odcid_ && v == odcid_) return true;
  if (have_odcid_) {
    // Keys of a DCID this side no longer uses would only cost failed attempts.
    const std::vector<uint8_t> old = odcid_;
    keysets_.erase(std::remove_if(keysets_.begin(), keysets_.end(),
                                  [&](const std::unique_ptr<KeySet>& ks) {
                                    return ks->dcid == old && !(have_retry_dcid_ && old == retry_dcid_);
                                  }),
                   keysets_.end());
  }
  odcid_ = std::move(v);
  have_odcid_ = true;
  Tally t;
  retry_parked(t);
  return true;
}

InitialReassembler::KeySet* InitialReassembler::keys_for(uint32_t version, const std::vector<uint8_t>& dcid) {
  for (auto& ks : keysets_)
    if (ks->version == version && ks->dcid == dcid) return ks.get();
  if (keysets_.size() >= kMaxKeySets) return nullptr;
  ++counters_.key_derivations;
  auto ks = KeySet::make(version, dcid, side_);
  if (!ks) return nullptr;
  keysets_.push_back(std::move(ks));
  return keysets_.back().get();
}

FeedResult InitialReassembler::feed(const uint8_t* data, size_t len) {
  ++counters_.datagrams;
  if (!data) len = 0;
  LongHeader first;
  switch (parse_long_header(data, len, &first)) {
    case HeaderStatus::NotLong: return FeedResult::NotQuic;
    case HeaderStatus::Unsupported: return FeedResult::UnsupportedVersion;
    case HeaderStatus::Malformed: ++counters_.malformed_packets; return FeedResult::Malformed;
    case HeaderStatus::VersionNegotiation: ++counters_.packets_skipped; return FeedResult::NotInitial;
    case HeaderStatus::Ok: break;
  }

  Tally t;
  size_t pos = 0;
  LongHeader h = first;
  while (true) {
    const uint8_t* pkt = data + pos;
    switch (h.type) {
      case PacketType::Initial:
        process_initial(pkt, h, /*may_park=*/true, t);
        break;
      case PacketType::Retry:
        ++counters_.packets_skipped;
        // RFC 9001 5.2: "The secrets used for constructing subsequent Initial
        // packets change when a server sends a Retry packet to use the
        // connection ID value selected by the server." That value is the
        // Retry's Source Connection ID (RFC 9000 17.2.5.2). Only the server
        // side sees Retry packets; the client side learns the new DCID from
        // its next Initial instead (see process_initial).
        if (side_ == Side::Server && !have_retry_dcid_) {
          retry_dcid_.assign(h.scid, h.scid + h.scid_len);
          have_retry_dcid_ = true;
          retry_parked(t);
        }
        break;
      default:  // 0-RTT and Handshake: keys only the endpoints have
        ++counters_.packets_skipped;
        break;
    }
    pos += h.packet_len;
    if (pos >= len) break;

    const HeaderStatus s = parse_long_header(data + pos, len - pos, &h);
    // RFC 9000 12.2: "a packet with a short header does not include a length,
    // so it can only be the last packet included in a UDP datagram". The
    // same stop covers zero bytes some stacks pad datagrams with.
    if (s == HeaderStatus::NotLong) break;
    if (s == HeaderStatus::Malformed) {
      ++counters_.malformed_packets;
      t.malformed = true;
      break;
    }
    // RFC 9000 12.2: "Receivers SHOULD ignore any subsequent packets with a
    // different Destination Connection ID than the first packet in the
    // datagram." An unknown version or a Version Negotiation packet after
    // the first is junk for the same reason.
    if (s != HeaderStatus::Ok || !same_dcid(first, h)) {
      ++counters_.packets_ignored;
      break;
    }
  }
  return t.result();
}

void InitialReassembler::process_initial(const uint8_t* pkt, const LongHeader& h, bool may_park, Tally& t) {
  // RFC 9001 5.4.2: "An endpoint MUST discard packets that are not long
  // enough to contain a complete sample."
  if (h.packet_len < h.pn_offset + 4 + kSampleLen) {
    ++counters_.malformed_packets;
    t.malformed = true;
    return;
  }

  uint64_t pn = 0;
  bool opened = false;
  bool tried_known_keys = false;
  bool learned = false;
  // The DCIDs this side's Initial keys are known to come from.
  for (int slot = 0; slot < 2 && !opened; ++slot) {
    if (!(slot == 0 ? have_odcid_ : have_retry_dcid_)) continue;
    KeySet* ks = keys_for(h.version, slot == 0 ? odcid_ : retry_dcid_);
    if (!ks) continue;
    tried_known_keys = true;
    opened = try_open(*ks, pkt, h, &pn);
  }
  // RFC 9001 5.2: Initial keys derive "from the Destination Connection ID
  // field from the client's first Initial packet", and after a Retry from the
  // DCID the server chose. Either way a client's own Initial names the DCID
  // its keys come from until the server's first answer changes it, so the
  // client side tries the packet's DCID and keeps keys that open it.
  if (!opened && side_ == Side::Client && !have_retry_dcid_) {
    std::vector<uint8_t> dcid(h.dcid, h.dcid + h.dcid_len);
    // One derivation in vain per datagram at most: a datagram of 37
    // coalesced 37-byte packets that open with no key cost 37 derivations
    // (HKDF and two cipher contexts each), 37 times a plain datagram's CPU.
    // A client's real Initials of one datagram share one DCID.
    if (!(have_odcid_ && dcid == odcid_) && keysets_.size() < kMaxKeySets && !t.derived_in_vain) {
      ++counters_.key_derivations;
      auto ks = KeySet::make(h.version, dcid, side_);
      if (ks && try_open(*ks, pkt, h, &pn)) {
        opened = learned = true;
        (have_odcid_ ? retry_dcid_ : odcid_) = dcid;
        (have_odcid_ ? have_retry_dcid_ : have_odcid_) = true;
        keysets_.push_back(std::move(ks));
      } else {
        t.derived_in_vain = true;
      }
    }
  }

  if (!opened) {
    // With no key source known yet (a server side not told the original
    // DCID; a client side whose first Initial has not arrived) the packet
    // may open later: keep it, bounded, instead of losing its CRYPTO data.
    if (may_park && !tried_known_keys) {
      park(pkt, h.packet_len, t);
    } else {
      ++counters_.decrypt_failures;
      t.failed = true;
    }
    return;
  }

  ++counters_.packets_decrypted;
  t.decrypted = true;
  if (!have_largest_pn_ || pn > largest_pn_) largest_pn_ = pn;
  have_largest_pn_ = true;
  if (version_ == 0) version_ = h.version;
  parse_frames(plain_scratch_.data(), plain_scratch_.size(), t);
  if (learned) retry_parked(t);
}

bool InitialReassembler::try_open(KeySet& ks, const uint8_t* pkt, const LongHeader& h, uint64_t* pn_out) {
  const size_t pn_offset = h.pn_offset;
  const size_t end = h.packet_len;  // caller checked pn_offset + 4 + 16 <= end

  // RFC 9001 5.4.2: "The sample of ciphertext is taken starting from an
  // offset of 4 bytes after the start of the Packet Number field."
  // RFC 9001 5.4.3: "mask = AES-ECB(hp_key, sample)"
  uint8_t mask[kSampleLen];
  int outl = 0;
  if (EVP_EncryptUpdate(ks.hp.get(), mask, &outl, pkt + pn_offset + 4, int(kSampleLen)) != 1 ||
      outl != int(kSampleLen))
    return false;

  // RFC 9001 5.4.1: "Long header: 4 bits masked  packet[0] ^= mask[0] & 0x0f"
  // and "pn_length = (packet[0] & 0x03) + 1", read after unmasking.
  const uint8_t first = pkt[0] ^ (mask[0] & 0x0f);
  const size_t pn_len = (first & 0x03) + 1;
  if (pn_offset + pn_len + kTagLen > end) return false;

  // RFC 9001 5.3: "The associated data, A, for the AEAD is the contents of
  // the QUIC header, starting from the first byte of either the short or
  // long header, up to and including the unprotected packet number."
  header_scratch_.assign(pkt, pkt + pn_offset + pn_len);
  header_scratch_[0] = first;
  uint64_t truncated = 0;
  for (size_t i = 0; i < pn_len; ++i) {
    // "packet[pn_offset:pn_offset+pn_length] ^= mask[1:1+pn_length]"
    header_scratch_[pn_offset + i] ^= mask[1 + i];
    truncated = (truncated << 8) | header_scratch_[pn_offset + i];
  }
  const uint64_t pn = decode_packet_number(have_largest_pn_, largest_pn_, truncated, unsigned(pn_len * 8));

  // RFC 9001 5.3: "The 62 bits of the reconstructed QUIC packet number in
  // network byte order are left-padded with zeros to the size of the IV. The
  // exclusive OR of the padded packet number and the IV forms the AEAD nonce."
  uint8_t nonce[12];
  std::memcpy(nonce, ks.iv, sizeof(nonce));
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));

  const uint8_t* ct = pkt + pn_offset + pn_len;
  const size_t ct_len = end - pn_offset - pn_len - kTagLen;
  if (ct_len > size_t(INT_MAX) || header_scratch_.size() > size_t(INT_MAX)) return false;
  plain_scratch_.resize(ct_len);

  // RFC 9001 5.3: "These cipher suites have a 16-byte authentication tag and
  // produce an output 16 bytes larger than their input." The tag ends the
  // packet.
  EVP_CIPHER_CTX* c = ks.aead.get();
  int n = 0;
  if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return false;
  if (EVP_DecryptUpdate(c, nullptr, &n, header_scratch_.data(), int(header_scratch_.size())) != 1)
    return false;
  if (ct_len > 0 && EVP_DecryptUpdate(c, plain_scratch_.data(), &n, ct, int(ct_len)) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, int(kTagLen), const_cast<uint8_t*>(ct + ct_len)) != 1)
    return false;
  uint8_t tail[kTagLen];
  if (EVP_DecryptFinal_ex(c, tail, &n) != 1) return false;
  *pn_out = pn;
  return true;
}

void InitialReassembler::parse_frames(const uint8_t* p, size_t n, Tally& t) {
  // RFC 9000 17.2.2: "The payload of an Initial packet includes a CRYPTO
  // frame (or frames) containing a cryptographic handshake message, ACK
  // frames, or both. PING, PADDING, and CONNECTION_CLOSE frames of type 0x1c
  // are also permitted. An endpoint that receives an Initial packet
  // containing other frames can either discard the packet as spurious or
  // treat it as a connection error."
  // Frames before an unknown one were authenticated with the packet, so the
  // CRYPTO data they carried is kept; the rest of the packet cannot be
  // delimited and is reported Malformed.
  ByteReader r(p, n);
  bool bad = false;
  while (!r.empty() && !bad) {
    const uint64_t type = r.varint();
    switch (type) {
      case 0x00:  // PADDING (19.1): one byte each, usually in long runs
        while (!r.empty() && *r.data() == 0) r.skip(1);
        break;
      case 0x01:  // PING (19.2): no fields
        break;
      case 0x02:    // ACK (19.3)
      case 0x03: {  // ACK with ECN counts
        // "Largest Acknowledged (i), ACK Delay (i), ACK Range Count (i),
        //  First ACK Range (i), ACK Range (..) ..., [ECN Counts (..)]"
        r.varint();
        r.varint();
        const uint64_t ranges = r.varint();
        r.varint();
        // "ACK Range { Gap (i), ACK Range Length (i) }": at least two bytes
        // each, so a bogus count runs the reader dry quickly.
        for (uint64_t i = 0; i < ranges && r.ok(); ++i) {
          r.varint();
          r.varint();
        }
        // "ECN Counts { ECT0 Count (i), ECT1 Count (i), ECN-CE Count (i) }"
        if (type == 0x03) {
          r.varint();
          r.varint();
          r.varint();
        }
        break;
      }
      case 0x06: {  // CRYPTO (19.6): "Offset (i), Length (i), Crypto Data (..)"
        const uint64_t offset = r.varint();
        const uint64_t length = r.varint();
        // "The largest offset delivered on a stream -- the sum of the offset
        // and data length -- cannot exceed 2^62-1". (Both are varints below
        // 2^62, so the sum cannot wrap.)
        if (!r.ok() || length > r.remaining() || offset + length > kMaxStreamOffset) {
          bad = true;
          break;
        }
        const std::string_view bytes = r.bytes(static_cast<size_t>(length));
        ++counters_.crypto_frames;
        add_crypto(offset, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), t);
        break;
      }
      case 0x1c:    // CONNECTION_CLOSE (19.19), transport error
      case 0x1d: {  // application error: not allowed in Initial, same shape less a field
        // "Error Code (i), [Frame Type (i)], Reason Phrase Length (i),
        //  Reason Phrase (..)"
        r.varint();
        if (type == 0x1c) r.varint();
        const uint64_t reason_len = r.varint();
        if (!r.ok() || reason_len > r.remaining()) {
          bad = true;
          break;
        }
        r.skip(static_cast<size_t>(reason_len));
        break;
      }
      default:  // unknown, or not allowed in Initial: cannot be skipped
        bad = true;
        break;
    }
    if (!r.ok()) bad = true;
  }
  if (bad) {
    ++counters_.malformed_packets;
    t.malformed = true;
  }
}

void InitialReassembler::grow_stream(size_t end) {
  if (end <= stream_.size()) return;
  // Grow geometrically for in-order streams, but never past the cap, so that
  // the capacity itself stays within max_bytes.
  if (end > stream_.capacity())
    stream_.reserve(std::min(max_bytes_, std::max(end, 2 * stream_.capacity())));
  stream_.resize(end);
  const size_t words = (end + 63) / 64;
  if (words > have_.capacity())
    have_.reserve(std::min((max_bytes_ + 63) / 64, std::max(words, 2 * have_.capacity())));
  have_.resize(words, 0);
}

void InitialReassembler::add_crypto(uint64_t offset, const uint8_t* data, size_t len, Tally& t) {
  if (len == 0) return;
  // Only offsets below max_bytes are ever stored: that is the memory bound.
  if (offset >= max_bytes_) {
    counters_.bytes_dropped_over_cap += len;
    t.overflow = true;
    return;
  }
  // Bytes are stored at their offsets, so memory follows the highest offset,
  // not what arrived: a 1-byte frame at offset 65,000 would hold 64 KiB.
  // Only bytes up to kMaxCryptoAhead past the gap-free prefix are taken.
  const size_t limit = std::min(max_bytes_, contiguous_ + kMaxCryptoAhead);
  size_t start = static_cast<size_t>(offset);
  if (start >= limit) {
    counters_.bytes_dropped_ahead += len;
    t.overflow = true;
    return;
  }
  size_t take = std::min(len, limit - start);
  if (take < len) {
    size_t over_cap = start + len > max_bytes_ ? start + len - max_bytes_ : 0;
    counters_.bytes_dropped_over_cap += over_cap;
    counters_.bytes_dropped_ahead += len - take - over_cap;
    t.overflow = true;
  }
  size_t end = start + take;
  if (end <= contiguous_) {
    counters_.duplicate_bytes += take;
    return;
  }
  if (start < contiguous_) {
    counters_.duplicate_bytes += contiguous_ - start;
    data += contiguous_ - start;
    start = contiguous_;
  }
  grow_stream(end);

  if (start >= stream_high_) {
    // Nothing stored at or after start yet: copy the run whole.
    std::memcpy(stream_.data() + start, data, end - start);
    for (size_t i = start; i < end;) {
      if ((i & 63) == 0 && end - i >= 64) {
        have_[i >> 6] = ~uint64_t(0);
        i += 64;
      } else {
        have_[i >> 6] |= uint64_t(1) << (i & 63);
        ++i;
      }
    }
  } else {
    // Overlaps earlier out-of-order data. RFC 9000 2.2: "The data at a given
    // offset MUST NOT change if it is sent multiple times", so the first copy
    // of each byte is kept and later ones are only counted.
    for (size_t i = start; i < end; ++i) {
      uint64_t& word = have_[i >> 6];
      const uint64_t bit = uint64_t(1) << (i & 63);
      if (word & bit) {
        ++counters_.duplicate_bytes;
        continue;
      }
      stream_[i] = data[i - start];
      word |= bit;
    }
  }
  stream_high_ = std::max(stream_high_, end);

  while (contiguous_ < stream_high_) {
    const uint64_t word = have_[contiguous_ >> 6];
    if ((contiguous_ & 63) == 0 && word == ~uint64_t(0)) {
      contiguous_ = std::min(contiguous_ + 64, stream_high_);
      continue;
    }
    if (!((word >> (contiguous_ & 63)) & 1)) break;
    ++contiguous_;
  }
}

void InitialReassembler::park(const uint8_t* pkt, size_t len, Tally& t) {
  // Each parked packet costs its bytes plus a 4-byte length; the total stays
  // within max_bytes.
  if (len > max_bytes_ || parked_.size() + 4 + len > max_bytes_) {
    ++counters_.parked_dropped;
    t.overflow = true;
    return;
  }
  const uint32_t n = static_cast<uint32_t>(len);
  const uint8_t prefix[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  parked_.insert(parked_.end(), prefix, prefix + 4);
  parked_.insert(parked_.end(), pkt, pkt + len);
  ++counters_.packets_parked;
  // Not decrypted (yet): report it as such.
  t.failed = true;
}

void InitialReassembler::retry_parked(Tally& t) {
  if (parked_.empty()) return;
  // Take the queue first: decrypting may learn keys and come back here.
  std::vector<uint8_t> queue;
  queue.swap(parked_);
  ByteReader r(queue.data(), queue.size());
  while (!r.empty()) {
    const uint32_t n = r.u32();
    const uint8_t* pkt = r.data();
    r.skip(n);
    if (!r.ok()) break;
    LongHeader h;
    if (parse_long_header(pkt, n, &h) != HeaderStatus::Ok || h.type != PacketType::Initial) continue;
    // Parked packets get this one more try; a packet that still does not
    // open is a decrypt failure.
    process_initial(pkt, h, /*may_park=*/false, t);
  }
}

}  // namespace ja4::quic
