#include "quic_latency.h"

#include "tcp_fingerprints.h"

namespace ja4 {

namespace {
enum class LongType { None, Initial, Handshake };

// RFC 9000 17.2: long header form bit 0x80; type in bits 0x30. QUIC v2
// (RFC 9369 3.2) renumbers: Initial 0b01, Handshake 0b11.
LongType long_type(const uint8_t* d, size_t n) {
  if (n < 5 || !(d[0] & 0x80)) return LongType::None;
  uint32_t version = (uint32_t(d[1]) << 24) | (uint32_t(d[2]) << 16) | (uint32_t(d[3]) << 8) | d[4];
  unsigned t = (d[0] >> 4) & 3;
  if (version == 0x6b3343cf) {
    if (t == 1) return LongType::Initial;
    if (t == 3) return LongType::Handshake;
    return LongType::None;
  }
  if (version == 0) return LongType::None;  // version negotiation
  if (t == 0) return LongType::Initial;
  if (t == 2) return LongType::Handshake;
  return LongType::None;
}
}  // namespace

void QuicLatencyTracker::on_datagram(bool from_client, const uint8_t* data, size_t len, int64_t ts,
                                     uint8_t ttl) {
  LongType t = long_type(data, len);
  if (t == LongType::None) return;
  switch (state_) {
    case State::ClientInitial:
      if (from_client && t == LongType::Initial) {
        a_ = ts;
        client_ttl_ = ttl;
        state_ = State::ServerInitial;
      }
      break;
    case State::ServerInitial:
      if (!from_client && t == LongType::Initial) {
        b_ = ts;
        server_ttl_ = ttl;
        state_ = State::ServerHandshake;
      }
      break;
    case State::ServerHandshake:
      if (!from_client && t == LongType::Handshake) {
        c_ = ts;
        state_ = State::Handshake;
      }
      break;
    case State::Handshake:
      if (t != LongType::Handshake) break;
      if (!from_client) {
        c_ = ts;  // the last server Handshake packet before the client's
      } else {
        d_ = ts;
        state_ = State::Done;
      }
      break;
    case State::Done:
      break;
  }
}

std::string QuicLatencyTracker::client() const {
  return format_ja4l((d_ - c_) / 2, client_ttl_);
}
std::string QuicLatencyTracker::server() const {
  return format_ja4l((b_ - a_) / 2, server_ttl_);
}

}  // namespace ja4
