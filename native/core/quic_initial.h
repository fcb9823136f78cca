// QUIC Initial packets: removing their protection and reassembling the TLS
// handshake bytes they carry.
//
// A QUIC ClientHello (and ServerHello) travels in CRYPTO frames inside
// Initial packets, encrypted with keys that anyone can derive from the
// client's Destination Connection ID (RFC 9001 section 5.2; RFC 9369 for
// QUIC version 2). This module derives those keys, removes header and
// payload protection, walks the frames and rebuilds the CRYPTO stream of one
// direction of one connection, so the TLS parser can read the handshake
// messages as if they had come over TCP (without the TLS record layer).
//
// Everything here is a passive observer's view: packets are never trusted,
// every length is checked before it is used, nothing throws, and memory is
// bounded by the max_bytes given to each reassembler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace ja4::quic {

constexpr uint32_t kVersion1 = 0x00000001;  // RFC 9000
constexpr uint32_t kVersion2 = 0x6b3343cf;  // RFC 9369
// RFC 9000 14.1: "A client MUST expand the payload of all UDP datagrams
// carrying Initial packets to at least the smallest allowed maximum datagram
// size of 1200 bytes"
constexpr size_t kMinClientDatagram = 1200;

enum class FeedResult {
  NotQuic,             // empty, a short header, or too short to hold a version
  NotInitial,          // QUIC long header(s), but no Initial packet in it
  Decrypted,           // at least one Initial packet decrypted, frames parsed
  DecryptFailed,       // Initial packet(s) whose protection could not be removed
  Malformed,           // a length or field that does not fit, or an unknown frame
  UnsupportedVersion,  // long header of a version other than v1 / v2
  Overflow,            // data beyond max_bytes was dropped (see counters())
};
const char* to_string(FeedResult r);

// Which endpoint sent the packets a reassembler is fed.
enum class Side { Client, Server };

struct LongHeader;  // internal to quic_initial.cc

// Is this UDP payload a QUIC long-header packet of a supported version whose
// type is Initial, with a header that fits the datagram? No cryptography.
bool looks_like_initial(const uint8_t* data, size_t len);
bool is_supported_version(uint32_t version);

// The Initial secrets of one direction (RFC 9001 section 5.2 and 5.1).
struct InitialKeys {
  uint8_t secret[32];  // client_initial_secret or server_initial_secret
  uint8_t key[16];     // AEAD_AES_128_GCM key
  uint8_t iv[12];      // AEAD nonce base
  uint8_t hp[16];      // header protection key (AES-128-ECB)
};
// Derives the Initial keys that `side` uses to protect its packets, from the
// client's original Destination Connection ID. False for an unsupported
// version, a DCID longer than 20 bytes, or a libcrypto failure.
bool derive_initial_keys(uint32_t version, const uint8_t* dcid, size_t dcid_len, Side side,
                         InitialKeys* out);

// Reassembles the TLS handshake byte stream carried in CRYPTO frames of QUIC
// Initial packets of ONE direction of ONE flow. Not thread-safe; one per
// flow direction. Movable, not copyable.
//
// Memory: the stream buffer holds at most max_bytes (plus a 1/8 bitmap of
// which bytes arrived), and reaches at most kMaxCryptoAhead past the bytes
// received without a gap. Initial packets that arrive before any key can be
// known (server side: before set_original_dcid or a Retry; client side:
// before its first decryptable Initial) are parked, within another
// max_bytes, and retried once keys appear. Two scratch buffers are as large
// as the largest packet fed. Anything beyond is dropped and counted.
class InitialReassembler {
 public:
  using Side = quic::Side;

  struct Counters {
    uint64_t datagrams = 0;
    uint64_t packets_decrypted = 0;
    uint64_t decrypt_failures = 0;        // Initial packets no known key opened
    uint64_t packets_skipped = 0;         // 0-RTT, Handshake, Retry, Version Negotiation
    uint64_t packets_ignored = 0;         // coalesced after a different DCID or junk tail
    uint64_t malformed_packets = 0;
    uint64_t crypto_frames = 0;
    uint64_t duplicate_bytes = 0;         // CRYPTO bytes already held (retransmits, overlaps)
    uint64_t bytes_dropped_over_cap = 0;  // CRYPTO bytes at offsets >= max_bytes
    uint64_t bytes_dropped_ahead = 0;     // more than kMaxCryptoAhead past the gap-free prefix
    uint64_t packets_parked = 0;          // waited for keys (see set_original_dcid)
    uint64_t parked_dropped = 0;          // packets not parked: the parking budget was full
    uint64_t key_derivations = 0;
  };

  // How far past the gap-free prefix CRYPTO bytes are kept. A ClientHello's
  // pieces arrive at most a few packets out of order (Chrome's largest,
  // with post-quantum key shares, spans two Initials): 8 KiB takes one of up
  // to seven packets in any order, and bounds what one small datagram makes
  // the reassembler hold (memory follows the highest offset stored).
  static constexpr size_t kMaxCryptoAhead = 8 * 1024;

  explicit InitialReassembler(Side side, size_t max_bytes = 64 * 1024);
  ~InitialReassembler();
  InitialReassembler(InitialReassembler&&) noexcept;
  InitialReassembler& operator=(InitialReassembler&&) noexcept;
  InitialReassembler(const InitialReassembler&) = delete;
  InitialReassembler& operator=(const InitialReassembler&) = delete;

  // The client's original Destination Connection ID, which the keys of both
  // directions derive from. The server side must be told it (the engine takes
  // it from the client side's original_dcid()); the client side learns it
  // from the first Initial it decrypts, but may be told too. Server packets
  // fed before this are parked and decrypted here, so check crypto_stream()
  // afterwards. False (and ignored) when longer than 20 bytes.
  bool set_original_dcid(const uint8_t* dcid, size_t len);

  // Feeds one UDP payload sent by this side. Walks coalesced long-header
  // packets by their Length field, decrypts Initial packets (any order),
  // skips 0-RTT / Handshake / Retry packets, stops at a short header, and
  // adds the CRYPTO frames (any order, overlapping) to the stream. The result
  // reports the worst thing that happened: Overflow, then Malformed, then
  // DecryptFailed, then Decrypted, then NotInitial. Parked packets that this
  // datagram lets open (it revealed the DCID, or was a Retry) count too;
  // a packet parked by this call counts as DecryptFailed.
  FeedResult feed(const uint8_t* data, size_t len);

  // Contiguous CRYPTO stream bytes from offset 0 (TLS handshake messages, no
  // TLS record layer). Valid until the next feed() or set_original_dcid().
  std::string_view crypto_stream() const;
  const std::vector<uint8_t>& original_dcid() const { return odcid_; }
  // The DCID a Retry switched the Initial keys to; empty when none was seen.
  const std::vector<uint8_t>& retry_dcid() const { return retry_dcid_; }
  uint32_t version() const { return version_; }  // 0 until a packet decrypted
  Side side() const { return side_; }
  const Counters& counters() const { return counters_; }

 private:
  struct KeySet;
  struct Tally;  // what happened to the packets of one call

  void process_initial(const uint8_t* pkt, const LongHeader& h, bool may_park, Tally& t);
  bool try_open(KeySet& ks, const uint8_t* pkt, const LongHeader& h, uint64_t* pn);
  KeySet* keys_for(uint32_t version, const std::vector<uint8_t>& dcid);
  void parse_frames(const uint8_t* p, size_t n, Tally& t);
  void add_crypto(uint64_t offset, const uint8_t* data, size_t len, Tally& t);
  void grow_stream(size_t end);
  void park(const uint8_t* pkt, size_t len, Tally& t);
  void retry_parked(Tally& t);

  Side side_;
  size_t max_bytes_;
  std::vector<uint8_t> odcid_;
  std::vector<uint8_t> retry_dcid_;
  bool have_odcid_ = false;
  bool have_retry_dcid_ = false;
  uint32_t version_ = 0;
  uint64_t largest_pn_ = 0;
  bool have_largest_pn_ = false;
  Counters counters_;

  // Initial keys, at most one set per (version, key DCID): 2 x 2.
  std::vector<std::unique_ptr<KeySet>> keysets_;

  // The CRYPTO stream: bytes at their offsets, a bit per byte that arrived,
  // and the length of the gap-free prefix.
  std::vector<uint8_t> stream_;
  std::vector<uint64_t> have_;
  size_t contiguous_ = 0;
  size_t stream_high_ = 0;  // one past the highest byte that arrived

  // Initial packets that arrived before any key could open them, each
  // stored as a 4-byte length and the packet bytes.
  std::vector<uint8_t> parked_;

  // Reused per packet: the unprotected header (AEAD associated data) and the
  // decrypted payload.
  std::vector<uint8_t> header_scratch_;
  std::vector<uint8_t> plain_scratch_;
};

}  // namespace ja4::quic
